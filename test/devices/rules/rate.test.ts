import { describe, expect, it } from 'vitest'
import { initialRateState, RateRule, type RuleStepInput, stepRate } from '#devices'
import { binFireRise } from './examples.ts'
import { DAY, expectRestartSafe, HOUR, MIN, run, series, T0, transitions, wobble } from './run.ts'

const every20 = (values: number[]): RuleStepInput[] => values.map((value, i) => ({ t: T0 + i * 20 * MIN, value }))

describe('rate rule', () => {
  it('raises on a rise of more than 15 °C between readings and clears when it settles', () => {
    const inputs = every20([20, 22, 40, 58, 60, 61, 59])
    const { results } = run(stepRate, binFireRise, initialRateState(), inputs)
    expect(results.map((r) => r.transition)).toEqual([null, null, 'raised', null, 'cleared', null, null])
    expect(results[2]!.value).toBe(18)
  })

  it('stays raised while rises stay inside the band (5–15 °C)', () => {
    expect(transitions(stepRate, binFireRise, initialRateState(), every20([20, 40, 48, 56, 64, 66]))).toEqual([
      [T0 + 20 * MIN, 'raised'],
      [T0 + 100 * MIN, 'cleared'],
    ])
  })

  it('does not raise on a rise below the level', () => {
    expect(transitions(stepRate, binFireRise, initialRateState(), every20([20, 34, 48, 62]))).toEqual([])
  })

  it('measures per unit of time, across uneven intervals', () => {
    const rule = RateRule.parse({ ...binFireRise, per: 'hour', maxGapS: undefined, raiseAt: 10, clearAt: 5 })
    const inputs: RuleStepInput[] = [
      { t: T0, value: 20 },
      { t: T0 + 30 * MIN, value: 24 }, // 8 °C/h
      { t: T0 + 40 * MIN, value: 26 }, // 12 °C/h
    ]
    const { results } = run(stepRate, rule, initialRateState(), inputs)
    expect(results.map((r) => r.value)).toEqual([undefined, 8, 12])
    expect(results.map((r) => r.transition)).toEqual([null, null, 'raised'])
  })

  it('gives no rate across a gap longer than maxGapS', () => {
    // Quiet for three hours, then warmer: not a fire, just a sunny afternoon after an outage.
    const inputs: RuleStepInput[] = [
      { t: T0, value: 15 },
      { t: T0 + 3 * HOUR, value: 35 },
      { t: T0 + 3 * HOUR + 20 * MIN, value: 36 },
    ]
    const { results } = run(stepRate, binFireRise, initialRateState(), inputs)
    expect(results.map((r) => r.transition)).toEqual([null, null, null])
    expect(results[2]!.value).toBe(1)
  })

  it('skips readings closer than minIntervalS as a reference', () => {
    const rule = RateRule.parse({ ...binFireRise, per: 'minute', minIntervalS: 60, raiseAt: 1, clearAt: 0.5 })
    const inputs: RuleStepInput[] = [
      { t: T0, value: 20 },
      { t: T0 + 5_000, value: 21 }, // skipped: 12 °C/min over five seconds is noise
      { t: T0 + 2 * MIN, value: 21 }, // 0.5 °C/min from the first reading
    ]
    const { results } = run(stepRate, rule, initialRateState(), inputs)
    expect(results.map((r) => r.value)).toEqual([undefined, undefined, 0.5])
  })

  it('handles falling rates with a below rule', () => {
    const rule = RateRule.parse({ ...binFireRise, per: 'day', direction: 'below', raiseAt: -0.1, clearAt: -0.05, maxGapS: 2 * 86_400 })
    const inputs = series(T0, T0 + 5 * DAY, DAY, (t) => 1.5 - 0.15 * ((t - T0) / DAY))
    expect(transitions(stepRate, rule, initialRateState(), inputs)).toEqual([[T0 + DAY, 'raised']])
  })

  it('ignores readings no newer than the reference', () => {
    const a = stepRate(binFireRise, initialRateState(), { t: T0, value: 20 })
    for (const t of [T0 - MIN, T0]) expect(stepRate(binFireRise, a.state, { t, value: 90 }).state).toBe(a.state)
  })

  it('gives the same transitions when restarted anywhere', () => {
    const inputs = series(T0, T0 + 12 * HOUR, 20 * MIN, (t) => 20 + 3 * wobble(t / MIN) + (t >= T0 + 6 * HOUR ? 25 : 0))
    expectRestartSafe(stepRate, binFireRise, initialRateState(), inputs)
  })
})
