import { defineConfig } from 'vitest/config'

// `npm test` runs two phases (scripts/test.sh): SP_PHASE=main runs everything but test/solo/, two
// files at a time; SP_PHASE=solo then runs test/solo/ one file at a time with nothing beside it.
// Solo tests measure the service's own resources (its memory over a year-long download, its PUBACK
// p99 beside a frozen dashboard): on two cores another file's servers take the CPU, starve V8's
// concurrent GC, and the figure would measure the neighbour.
// Cluster mode's tests (test/solo/cluster-*) run there too: each starts three nats-servers, Redis and
// three nodes, and their leases (seconds) must not expire because a neighbour holds both cores.
// Unset (vitest run by hand), every file is included.
const phase = process.env.SP_PHASE
const SOLO = 'test/solo/**'

export default defineConfig({
  test: {
    include: phase === 'solo' ? [`${SOLO}/*.test.ts`] : ['test/**/*.test.ts'],
    exclude: phase === 'main' ? ['**/node_modules/**', SOLO] : ['**/node_modules/**'],
    globalSetup: ['test/helpers/global-influxd.ts', 'test/helpers/global-postgres.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits for something that must come (a live word, a row): vitest's 1 s default is
    // shorter than a Chromium page's socket handshake on two cores that another file's servers share
    // (CI saw '#conn' still empty). Polls that need longer still say so; none asserts an absence.
    expect: { poll: { timeout: 10_000 } },
    // Two cores: more workers only fight over the CPU that the servers under test need.
    maxWorkers: phase === 'solo' ? 1 : 2,
  },
})
