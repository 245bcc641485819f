import { describe, expect, it } from 'vitest'
import { runNode } from '../helpers/run-node.ts'

// The benchmark is not a test; this only keeps it working: a few seconds of each phase.
describe('npm run bench (smoke)', () => {
  it('runs every phase, prints the table and loses nothing', { timeout: 180_000 }, async () => {
    const { code, out } = await runNode([
      'test/bench/main.ts',
      ...['--seconds', '2', '--devices', '10', '--overload', '2', '--scale', '200', '--scale-seconds', '3', '--backlog', '2000'],
    ])
    expect(out).toContain('smartplace benchmark')
    for (const row of [
      'confirmed in InfluxDB',
      'publish→PUBACK',
      'publish→visible in InfluxDB',
      'publish→alert on Socket.IO',
      'CPU-s per 1,000',
      'overload',
      'spool drain',
      'scale: 200 devices connected',
    ]) {
      expect(out, row).toContain(row)
    }
    expect(out).toMatch(/acknowledged readings lost\s+0/)
    expect(code, out).toBe(0)
  })
})
