import { describe, expect, it } from 'vitest'
import { alternate } from './order.ts'
import type { PathRound } from './round.ts'
import { ratio, spread } from './stats.ts'
import { checkTargets } from './targets.ts'

// How the bench turns rounds into the table: these decide what a noisy round can and cannot move.
describe('bench rounds', () => {
  it('alternates the order of the paths: A B, B A, A B', () => {
    expect([1, 2, 3].map((r) => alternate(['A', 'B'], r).join(' '))).toEqual(['A B', 'B A', 'A B'])
    expect(alternate(['A', 'B', 'C'], 2)).toEqual(['C', 'B', 'A'])
  })

  it('summarises a figure by its median and spread, skipping rounds without a number', () => {
    expect(spread([3, 1, 2])).toMatchObject({ n: 3, median: 2, min: 1, max: 3 })
    expect(spread([4, 1, null, 2, 3])).toMatchObject({ n: 4, median: 2.5, q1: 1.75, q3: 3.25 })
    expect(spread([null, Number.NaN])).toBeNull()
  })

  it('takes the ratio of the medians, and pairs rounds for the per-round range', () => {
    const r = ratio([10, 100, 12], [5, 10, 6])!
    expect(r.ofMedians).toBeCloseTo(12 / 6)
    expect(r.perRound).toMatchObject({ min: 2, max: 10, median: 2 })
  })

  it('judges the targets on the median, and fails a round whose alert never arrived', () => {
    const round = (n: number, pubackP99: number, alertsMissing = 0): PathRound => ({
      path: 'ours',
      round: n,
      position: 0,
      load1: 0,
      max: { accepted: 0, confirmed: 0, acked: 0, stored: 0, lost: 0, pubackP50: 0, pubackP99: 0 },
      fixed: {
        rate: 2000,
        accepted: 2000,
        pubackP50: 1,
        pubackP99,
        visibleP50: 0,
        visibleP99: 0,
        visibleSamples: 1,
        alertP50: 1,
        alertP99: 10,
        alertSamples: 100 - alertsMissing,
        alertSent: 100,
        cpuPer1000: 0,
        acked: 0,
        stored: 0,
        lost: 0,
      },
      lost: 0,
    })
    const byKey = (rounds: PathRound[]) => Object.fromEntries(checkTargets(['ours'], rounds).map((t) => [t.key, t.byPath.ours!]))
    const t = byKey([round(1, 10), round(2, 90), round(3, 20)])
    expect(t.pubackP99).toMatchObject({ value: 20, pass: true, roundsPassing: 2, rounds: 3 })
    expect(t.lost).toMatchObject({ value: 0, pass: true })
    expect(byKey([round(1, 10), round(2, 10, 1)]).alertP99).toMatchObject({ pass: false, roundsPassing: 1 })
  })
})
