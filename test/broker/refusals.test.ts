import { Writable } from 'node:stream'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { brokerMetrics } from '../../broker/metrics.ts'
import { createRefusals } from '../../broker/refusals.ts'

const setup = () => {
  const register = new Registry()
  const lines: Record<string, unknown>[] = []
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
        cb()
      },
    }),
  )
  const metrics = brokerMetrics(register)
  const value = async (reason: string) => (await metrics.refused.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0
  return { lines, metrics, log, value }
}

describe('refusal log', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('counts every refusal but logs one line per reason per window, then how many were left out', async () => {
    vi.useFakeTimers()
    const { lines, metrics, log, value } = setup()
    const r = createRefusals(metrics, log, 10_000)
    for (let i = 0; i < 1000; i++) r.refuse('bad-credentials', { address: '10.0.0.1' })
    r.refuse('packet-malformed')
    expect(await value('bad-credentials')).toBe(1000)
    await vi.advanceTimersByTimeAsync(0) // pino writes asynchronously
    expect(lines.map((l) => l.reason)).toEqual(['bad-credentials', 'packet-malformed'])
    expect(lines[0]).toMatchObject({ address: '10.0.0.1', msg: 'mqtt refused' })

    await vi.advanceTimersByTimeAsync(10_000)
    expect(lines).toHaveLength(3)
    expect(lines[2]).toMatchObject({ reason: 'bad-credentials', suppressed: 999 })

    // The flood goes on: one more summary per window, never a line per refusal.
    for (let i = 0; i < 500; i++) r.refuse('bad-credentials')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(lines).toHaveLength(4)
    expect(lines[3]).toMatchObject({ reason: 'bad-credentials', suppressed: 500 })

    // Quiet for a window: the next refusal is logged at once again.
    await vi.advanceTimersByTimeAsync(20_000)
    r.refuse('bad-credentials')
    await vi.advanceTimersByTimeAsync(0)
    expect(lines).toHaveLength(5)
    expect(lines[4]).toMatchObject({ reason: 'bad-credentials', msg: 'mqtt refused' })
    r.close()
  })
})
