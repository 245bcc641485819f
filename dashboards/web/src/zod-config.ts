// Zod builds faster parsers with `new Function` where it can, and probes for that the first time a
// schema is made. This page's CSP forbids eval, and Chromium reports the probe as a violation even
// though zod catches it. So `jitless`, set before any schema exists: main.ts imports this first.
// Zod 4 keeps its settings on this global (so that every copy of it shares them) and takes an object
// already there: setting it here, rather than through zod's `config()`, keeps zod's core out of the
// first page, which the crew's phone loads without any schema. The CSP test fails if zod moves it.
globalThis.__zod_globalConfig = { ...globalThis.__zod_globalConfig, jitless: true }
