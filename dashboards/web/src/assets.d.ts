// Vite bundles imported style sheets; TypeScript only needs to know such an import is allowed.
declare module '*.css' {}
