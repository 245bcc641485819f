import { describe, expect, it } from 'vitest'
import { runNode } from '../helpers/run-node.ts'

// The benchmark is not a test; this only keeps it working: two rounds (both orders) of a few
// seconds per phase, then each single-run phase once.
describe('npm run bench (smoke)', () => {
  it('runs every phase, prints the table and loses nothing', { timeout: 240_000 }, async () => {
    const { code, out } = await runNode([
      'test/bench/main.ts',
      ...[
        '--rounds',
        '2',
        '--seconds',
        '2',
        '--devices',
        '10',
        '--overload',
        '2',
        '--scale',
        '200',
        '--scale-seconds',
        '3',
        '--backlog',
        '2000',
      ],
    ])
    expect(out).toContain('smartplace benchmark: 2 rounds (order A B, B A)')
    for (const row of [
      'confirmed in InfluxDB',
      'publish→PUBACK p99',
      'publish→visible in InfluxDB p99',
      'publish→alert on Socket.IO p99',
      'CPU-s per 1,000',
      'targets at 2,000 readings/s',
      'overload',
      'spool drain',
      'scale: 200 devices connected',
    ]) {
      expect(out, row).toContain(row)
    }
    expect(out).toMatch(/acknowledged readings lost \(A, every phase\): 0\n/)
    expect(code, out).toBe(0)
  })
})
