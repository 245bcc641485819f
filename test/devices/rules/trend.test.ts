import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initialTrendState, type RuleStepInput, stepTrend, TREND_BUCKETS, TrendRule } from '#devices'
import { pressureFalling } from './examples.ts'
import { DAY, expectRestartSafe, HOUR, MIN, run, series, T0, transitions, wobble } from './run.ts'

/** Plain least squares over all points, for comparison. */
function slope(points: RuleStepInput[]): number {
  const n = points.length
  const mx = points.reduce((s, p) => s + p.t, 0) / n
  const my = points.reduce((s, p) => s + p.value!, 0) / n
  const sxy = points.reduce((s, p) => s + (p.t - mx) * (p.value! - my), 0)
  const sxx = points.reduce((s, p) => s + (p.t - mx) ** 2, 0)
  return sxy / sxx
}

// Cold pressure readings (the caller passes only those) every 30 minutes, with ±0.02 bar of noise.
const leak = (perDay: number, from = T0, days = 8) =>
  series(from, from + days * DAY, 30 * MIN, (t) => 1.5 - perDay * ((t - from) / DAY) + 0.02 * wobble(t / MIN))

describe('trend rule', () => {
  it('sees a slow leak once three days show it, days before pressure reaches 0.8 bar', () => {
    const inputs = leak(0.12)
    const got = transitions(stepTrend, pressureFalling, initialTrendState(), inputs)
    expect(got).toEqual([[T0 + 3 * DAY, 'raised']])
    // 1.5 − 0.12 × d = 0.8 at d ≈ 5.8: raised nearly three days earlier.
    const lowAt = inputs.find((i) => i.value! < 0.8)!.t
    expect(lowAt - got[0]![0]).toBeGreaterThan(2 * DAY)
  })

  it('does not raise on a slower fall or on noise alone', () => {
    expect(transitions(stepTrend, pressureFalling, initialTrendState(), leak(0.06))).toEqual([])
    expect(transitions(stepTrend, pressureFalling, initialTrendState(), leak(0))).toEqual([])
  })

  it('gives the exact least-squares slope of the readings it holds', () => {
    const rule = TrendRule.parse({ ...pressureFalling, windowS: 30 * 86_400, minSpanS: 0 })
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 4 * 3600 }), fc.double({ min: -5, max: 5, noNaN: true })), {
          minLength: 3,
          maxLength: 80,
        }),
        (steps) => {
          let t = T0
          const inputs = steps.map(([dtS, value]) => {
            t += dtS * 1000
            return { t, value }
          })
          const { results } = run(stepTrend, rule, initialTrendState(), inputs)
          const want = slope(inputs) * DAY
          expect(results.at(-1)!.value).toBeCloseTo(want, 6)
        },
      ),
    )
  })

  it('keeps a fixed number of buckets however often the device reports', () => {
    const inputs = series(T0, T0 + 10 * DAY, MIN, (t) => 1.5 - 0.01 * ((t - T0) / DAY))
    const { state, results } = run(stepTrend, pressureFalling, initialTrendState(), inputs)
    expect(state.buckets.length).toBeLessThanOrEqual(TREND_BUCKETS + 1)
    expect(results.at(-1)!.value).toBeCloseTo(-0.01, 9)
    expect(JSON.stringify(state).length).toBeLessThan(3000)
  })

  it('stays correct across a day with no readings', () => {
    const inputs = leak(0.12).filter((i) => i.t < T0 + 2 * DAY || i.t >= T0 + 3 * DAY)
    const got = transitions(stepTrend, pressureFalling, initialTrendState(), inputs)
    expect(got).toEqual([[T0 + 3 * DAY, 'raised']])
    const { results } = run(stepTrend, pressureFalling, initialTrendState(), inputs)
    expect(results.at(-1)!.value).toBeCloseTo(-0.12, 2)
  })

  it('says nothing until the readings span the window', () => {
    const { results } = run(stepTrend, pressureFalling, initialTrendState(), leak(0.5, T0, 2))
    expect(results.every((r) => r.value === undefined && r.transition === null)).toBe(true)
  })

  it('clears once the window no longer shows the fall (topped up and tight again)', () => {
    const inputs = [...leak(0.12, T0, 4), ...series(T0 + 4 * DAY, T0 + 9 * DAY, 30 * MIN, (t) => 1.4 + 0.02 * wobble(t / MIN))]
    const got = transitions(stepTrend, pressureFalling, initialTrendState(), inputs)
    expect(got.map(([, tr]) => tr)).toEqual(['raised', 'cleared'])
    expect(got[1]![0]).toBeGreaterThan(T0 + 4 * DAY)
    expect(got[1]![0]).toBeLessThanOrEqual(T0 + 7 * DAY)
  })

  it('holds inside the band: a fall easing to 0.07 bar/day neither clears nor raises again', () => {
    const eased = [...leak(0.12, T0, 4), ...series(T0 + 4 * DAY, T0 + 10 * DAY, 30 * MIN, (t) => 1.02 - (0.07 * (t - T0 - 4 * DAY)) / DAY)]
    expect(transitions(stepTrend, pressureFalling, initialTrendState(), eased)).toEqual([[T0 + 3 * DAY, 'raised']])
  })

  it('ignores a reading no newer than the newest', () => {
    const { state } = run(stepTrend, pressureFalling, initialTrendState(), leak(0.12, T0, 4))
    for (const t of [T0, state.last!]) expect(stepTrend(pressureFalling, state, { t, value: 9 }).state).toBe(state)
  })

  it('starts again when an override changes the window', () => {
    const { state } = run(stepTrend, pressureFalling, initialTrendState(), leak(0.12, T0, 4))
    const wider = TrendRule.parse({ ...pressureFalling, windowS: 5 * 86_400 })
    const r = stepTrend(wider, state, { t: T0 + 4 * DAY + HOUR, value: 1 })
    expect(r.state.buckets).toHaveLength(1)
  })

  it('gives the same transitions when restarted anywhere', () => {
    const inputs = [...leak(0.15, T0, 4), ...series(T0 + 4 * DAY, T0 + 8 * DAY, 2 * HOUR, () => 1.4)]
    expectRestartSafe(stepTrend, pressureFalling, initialTrendState(), inputs, 3)
  })
})
