import { config } from 'zod/v4/core'

// Zod builds faster parsers with `new Function` where it can, and probes for that the first time a
// schema is made. This page's CSP forbids eval, and Chromium reports the probe as a violation even
// though zod catches it. Set before any schema exists: main.ts imports this first, and the views
// that use schemas (from #devices) load after it.
config({ jitless: true })
