// Vite bundles imported style sheets; TypeScript only needs to know such an import is allowed.
declare module '*.css' {}

interface Window {
  /** Today's list, asked for by public/early.js before the bundle started; a failed answer rejects. */
  __spEarlyCrew?: { at: number; list: Promise<unknown> }
}
