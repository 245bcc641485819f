import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root,
  base: '/',
  resolve: {
    alias: [
      // zod-free, for the first page a phone loads; before '#devices', which would take it as a prefix.
      { find: '#devices/rights', replacement: fileURLToPath(new URL('../../devices/access/rights.ts', import.meta.url)) },
      { find: '#devices/crew-limits', replacement: fileURLToPath(new URL('../../devices/crew-limits.ts', import.meta.url)) },
      { find: '#devices', replacement: fileURLToPath(new URL('../../devices/index.ts', import.meta.url)) },
    ],
  },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  logLevel: 'warn',
})
