// Vite bundles imported style sheets; TypeScript only needs to know such an import is allowed.
declare module '*.css' {}

interface Window {
  /** Today's list and who is signed in, asked for by the page's first script (index.html) before the bundle started; a failed answer rejects. */
  __spEarlyCrew?: { at: number; list: Promise<unknown>; me: Promise<unknown> }
}

/** Zod 4's settings, shared by every copy of it (zod-config.ts sets them before zod loads). */
declare var __zod_globalConfig: Record<string, unknown> | undefined
