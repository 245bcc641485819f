import { describe, expect, it } from 'vitest'
import { FORECAST_MAX_POINTS, ForecastRule, initialForecastState, type RuleStepInput, stepForecast } from '#devices'
import { binBeforeCollection } from './examples.ts'
import { DAY, expectRestartSafe, HOUR, MIN, run, series, T0, transitions, wobble } from './run.ts'

const h = (hours: number, minutes = 0) => T0 + hours * HOUR + minutes * MIN
const emptied = h(6) // Monday 06:00
const collected = h(2 * 24 + 20) // Wednesday 20:00
const thursday = h(3 * 24 + 7) // the round's next collection, Thursday 07:00

/** Fill every 20 minutes (domain.md §5.1 bin mode): 0.35 a day from 5 %, emptied to 3 % on Wednesday evening. */
function bin(extra: (t: number) => number | undefined = () => undefined): RuleStepInput[] {
  return series(emptied, h(3 * 24 + 6), 20 * MIN, (t) => {
    const base = t < collected ? 0.05 + (0.35 * (t - emptied)) / DAY : 0.03 + (0.35 * (t - collected)) / DAY
    return extra(t) ?? base + 0.005 * wobble(t / MIN)
  }).map((i) => ({ ...i, before: thursday }))
}
const forecast = (inputs: RuleStepInput[], rule: ForecastRule = binBeforeCollection) =>
  transitions(stepForecast, rule, initialForecastState(), inputs)

describe('forecast rule (bin full before its next collection)', () => {
  it('raises as soon as the rate says full before Thursday, and clears when the bin is collected', () => {
    expect(forecast(bin())).toEqual([
      [h(12), 'raised'],
      [collected + 20 * MIN, 'cleared'],
    ])
    const { results } = run(stepForecast, binBeforeCollection, initialForecastState(), bin())
    const first = results.find((r) => r.transition === 'raised')!
    expect(first.detail!.rate).toBeCloseTo(0.35, 1)
    // Full at about 06:00 + 0.95 / 0.35 days = Wednesday 23:08: rough from six hours of readings, close after a day.
    const fullAt = emptied + (0.95 / 0.35) * DAY
    expect(Math.abs((first.detail!.eta as number) - fullAt)).toBeLessThan(4 * HOUR)
    const tuesday = results[bin().findIndex((i) => i.t === h(36))]!
    expect(Math.abs((tuesday.detail!.eta as number) - fullAt)).toBeLessThan(HOUR)
    expect(first.value).toBeCloseTo(((first.detail!.eta as number) - h(12)) / 1000, 3)
  })

  it('reports a collection with the level before and after it', () => {
    const { results } = run(stepForecast, binBeforeCollection, initialForecastState(), bin())
    const reset = results.find((r) => r.transition === 'cleared')!.detail!
    expect(reset.resetAt).toBe(collected)
    expect(reset.before).toBeCloseTo(0.95, 1)
    expect(reset.after).toBeCloseTo(0.03, 1)
  })

  it('drops a one-reading lid-open glitch instead of taking it for a collection', () => {
    const glitch = h(24 + 10)
    const inputs = bin((t) => (t === glitch ? 0.02 : undefined))
    expect(forecast(inputs)).toEqual([
      [h(12), 'raised'],
      [collected + 20 * MIN, 'cleared'],
    ])
    const { results } = run(stepForecast, binBeforeCollection, initialForecastState(), inputs)
    const after = results[inputs.findIndex((i) => i.t === glitch) + 1]!
    expect(after.detail!.before).toBeUndefined()
    expect(after.detail!.rate).toBeCloseTo(0.35, 1)
  })

  it('keeps its rate through echoes that read far too full', () => {
    const inputs = bin((t) => (Math.round((t - emptied) / (20 * MIN)) % 9 === 4 ? 0.97 : undefined)).filter((i) => i.t < collected)
    const { results } = run(stepForecast, binBeforeCollection, initialForecastState(), inputs)
    expect(results.at(-1)!.detail!.rate).toBeCloseTo(0.35, 1)
  })

  it('stays correct across a day with no readings', () => {
    const inputs = bin().filter((i) => i.t < h(18) || i.t >= h(42))
    const { results } = run(stepForecast, binBeforeCollection, initialForecastState(), inputs)
    expect(results[inputs.findIndex((i) => i.t === h(42))]!.detail!.rate).toBeCloseTo(0.35, 1)
  })

  it('uses withinS when the caller gives no deadline', () => {
    const rule = ForecastRule.parse({ ...binBeforeCollection, withinS: 12 * 3600 })
    const inputs = series(T0, T0 + 2 * DAY, 20 * MIN, (t) => 0.5 + (0.3 * (t - T0)) / DAY)
    const got = forecast(inputs, rule)
    // Full within 12 hours once 0.85 is reached: 28 hours in.
    expect(got).toHaveLength(1)
    expect(Math.abs(got[0]![0] - h(28))).toBeLessThanOrEqual(20 * MIN)
  })

  it('gives no forecast for a bin that is not filling, and raises for one already full', () => {
    const flat = series(T0, T0 + DAY, 20 * MIN, () => 0.4).map((i) => ({ ...i, before: thursday }))
    const { results } = run(stepForecast, binBeforeCollection, initialForecastState(), flat)
    expect(results.at(-1)!.value).toBeUndefined()
    expect(results.at(-1)!.detail!.eta).toBeNull()
    expect(results.every((r) => r.transition === null)).toBe(true)
    const full = series(T0, T0 + DAY, 20 * MIN, () => 1).map((i) => ({ ...i, before: thursday }))
    expect(forecast(full)).toEqual([[h(6), 'raised']])
  })

  it('forecasts downwards too: days of battery left', () => {
    const rule = ForecastRule.parse({ ...binBeforeCollection, direction: 'below', level: 10, windowS: 30 * 86_400, resetJump: 20 })
    const inputs = series(T0, T0 + 10 * DAY, 6 * HOUR, (t) => 60 - (0.5 * (t - T0)) / DAY)
    const last = run(stepForecast, rule, initialForecastState(), inputs).results.at(-1)!
    expect(last.detail!.rate).toBeCloseTo(-0.5, 6)
    expect(last.value! / 86_400).toBeCloseTo((60 - 0.5 * (10 - 0.25) - 10) / 0.5, 3)
  })

  it('keeps a bounded history however often the bin reports', () => {
    const inputs = series(T0, T0 + 10 * DAY, 2 * MIN, (t) => ((t - T0) / DAY) % 1)
    const { state } = run(stepForecast, binBeforeCollection, initialForecastState(), inputs)
    expect(state.points.length).toBeLessThanOrEqual(FORECAST_MAX_POINTS)
  })

  it('ignores a reading no newer than the newest', () => {
    const { state } = run(stepForecast, binBeforeCollection, initialForecastState(), bin().slice(0, 30))
    for (const t of [emptied, state.last!]) expect(stepForecast(binBeforeCollection, state, { t, value: 0 }).state).toBe(state)
  })

  it('gives the same transitions when restarted anywhere, including between a jump and its confirmation', () => {
    const inputs = bin((t) => (t === h(24 + 10) ? 0.02 : undefined))
    expectRestartSafe(stepForecast, binBeforeCollection, initialForecastState(), inputs)
  })
})
