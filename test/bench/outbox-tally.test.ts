import { describe, expect, it } from 'vitest'
import { parseBenchOptions } from './options.ts'
import { renderOutboxReport, summariseOutbox } from './outbox-report.ts'
import type { OutboxRound, Variant } from './outbox-run.ts'
import { createTally, eventSeq } from './outbox-tally.ts'

// The outbox benchmark's own arithmetic: what its receivers count as delivered, doubled or out of
// order, and how rounds become the table. The benchmark itself is not run here (minutes long).
describe('outbox bench tally', () => {
  it('reads the history id out of a webhook-id', () => {
    expect(eventSeq('msg_ah42')).toBe(42)
    expect(eventSeq('msg_ah7_offline')).toBe(7)
    expect(eventSeq('msg_case3')).toBeNull()
  })

  it('counts each event once per target, a repeated webhook-id as a duplicate, an older one as out of order', () => {
    const t = createTally()
    const d = (target: number, id: string, atMs: number, eventAtMs: number | null = atMs - 10) =>
      t.record({ target, webhookId: id, atMs, eventAtMs })
    d(1, 'msg_ah1', 1000)
    d(1, 'msg_ah2', 1100)
    d(1, 'msg_ah2', 1200) // a retry of a delivered one: the receiver sees it twice
    d(1, 'msg_ah1', 1300) // already had it: a duplicate, not out of order
    d(2, 'msg_ah2', 1050, null)
    d(2, 'msg_ah1', 1150) // came after a later event
    expect(t.count(1)).toEqual({ received: 4, unique: 2, duplicates: 2, outOfOrder: 0 })
    expect(t.count(2)).toEqual({ received: 2, unique: 2, duplicates: 0, outOfOrder: 1 })
    expect(t.count(3)).toEqual({ received: 0, unique: 0, duplicates: 0, outOfOrder: 0 })
    expect(t.total([1, 2])).toEqual({ received: 6, unique: 4, duplicates: 2, outOfOrder: 1 })
    expect(t.minUnique([1, 2])).toBe(2)
    expect(t.minUnique([1, 2, 3])).toBe(0)

    // Only first deliveries count towards the rate; the window is [from, to).
    const w = t.window(new Set([1, 2]), 1000, 1150)
    expect(w).toEqual({ n: 3, lastMs: 1100, lagMs: [10, 10] })
    expect(t.window(new Set([2]))).toEqual({ n: 2, lastMs: 1150, lagMs: [10] })
  })
})

describe('outbox bench report', () => {
  const round = (variant: Variant, n: number, p99: number, rate: number | null, missing = 0): OutboxRound => ({
    variant,
    round: n,
    position: 0,
    ingest: { acked: 1000, deferred: 0, perSecond: 1000, pubackP50: 1, pubackP99: p99 },
    alerts: { transitionsSent: 10, events: rate === null ? null : 10 },
    delivery:
      rate === null ? null : { targets: 499, offeredPerS: 500, duringLoadPerS: rate, toDrainPerS: rate, drainS: 0, lagP50: 5, lagP99: 50 },
    exactlyOnce: rate === null ? null : { expected: 4990, received: 4990 - missing, missing, duplicates: 0, outOfOrder: 0 },
    deadAttempts: variant === 'C' ? 3 : variant === 'B' ? 0 : null,
    serviceCpuS: 1,
    subscribeS: 1,
  })

  it('gives medians per variant, C/B for the delivery rate, B/A, C/A and C/B for PUBACK p99, and counts faults', () => {
    const rounds = [
      round('A', 1, 10, null),
      round('B', 1, 20, 500),
      round('C', 1, 30, 400),
      round('C', 2, 10, 450, 2),
      round('B', 2, 10, 500),
      round('A', 2, 10, null),
    ]
    const s = summariseOutbox(rounds, 2)
    const byLabel = Object.fromEntries(s.ratios.map((r) => [r.label, r.ratio]))
    expect(byLabel['PUBACK p99, B/A']!.ofMedians).toBeCloseTo(15 / 10)
    expect(byLabel['PUBACK p99, C/A']!.perRound).toMatchObject({ min: 1, max: 3 })
    expect(byLabel['PUBACK p99, C/B']!.ofMedians).toBeCloseTo(20 / 15)
    expect(byLabel['delivery rate during the load, C/B']!.ofMedians).toBeCloseTo(425 / 500)
    expect(s.faults).toBe(2)
    const missing = s.figures.find((f) => f.label === 'missing')!
    expect(missing.byVariant).toEqual({ A: null, B: 0, C: 2 })

    const opt = parseBenchOptions(['--outbox', '--rounds', '2']).outbox!
    const text = renderOutboxReport({
      opt,
      orders: [
        ['A', 'B', 'C'],
        ['C', 'B', 'A'],
      ],
      summary: s,
      tookS: 60,
    })
    expect(text).toContain('2 rounds (order A B C, C B A)')
    expect(text).toMatch(/publish→PUBACK p99, ms\s+10\.00 \[10\.00–10\.00\]\s+15\.00 \[10\.00–20\.00\]\s+20\.00 \[10\.00–30\.00\]/)
    expect(text).toContain('healthy deliveries missing or doubled, every round: 2')
  })

  it('takes --outbox options, and refuses them without --outbox', () => {
    expect(parseBenchOptions(['--outbox']).outbox).toMatchObject({ rounds: 3, seconds: 20, subscriptions: 500, rate: 1000 })
    expect(parseBenchOptions(['--outbox', '--subscriptions', '20', '--seconds', '3']).outbox).toMatchObject({
      subscriptions: 20,
      seconds: 3,
    })
    expect(parseBenchOptions([]).outbox).toBeNull()
    expect(() => parseBenchOptions(['--subscriptions', '20'])).toThrow(/goes with --outbox/)
  })
})
