import { describe, expect, it } from 'vitest'
import { BaselineRule, initialBaselineState, type RuleStepInput, stepBaseline } from '#devices'
import { aboveBaseline, outOfHours } from './examples.ts'
import { DAY, expectRestartSafe, HOUR, MIN, run, series, T0, transitions, wobble } from './run.ts'

const z = (iso: string) => Date.parse(iso)
/** Half-hourly demand (domain.md §5.4 settlement granularity), night 10 kW ± 1 around the clock. */
const demand = (from: number, days: number, kw: (t: number) => number | undefined = () => undefined) =>
  series(from, from + days * DAY, 30 * MIN, (t) => kw(t) ?? 10 + wobble(t / MIN))
const nights = (inputs: RuleStepInput[], rule: BaselineRule = outOfHours) => transitions(stepBaseline, rule, initialBaselineState(), inputs)

describe('baseline rule: out of hours (02:00–04:00 against the lower decile of 28 nights)', () => {
  const leftOn = T0 + 14 * DAY // lights left on: baseload × 2 for a night (domain.md §5.4 simulator shapes)
  const inputs = demand(T0, 20, (t) => (t >= leftOn && t < leftOn + 6 * HOUR ? 20 : undefined))

  it('raises after an hour over the baseline and clears when the night’s period ends, with the waste', () => {
    expect(nights(inputs)).toEqual([
      [leftOn + 3 * HOUR, 'raised'],
      [leftOn + 4 * HOUR, 'cleared'],
    ])
    const { results } = run(stepBaseline, outOfHours, initialBaselineState(), inputs)
    const cleared = results.find((r) => r.transition === 'cleared')!.detail!
    const base = cleared.baseline as number
    expect(base).toBeGreaterThan(9)
    expect(base).toBeLessThan(10)
    // Two hours at 20 kW against the baseline: kWh wasted.
    expect(cleared.excess).toBeCloseTo((20 - base) * 2, 6)
    expect(cleared.overS).toBe(2 * 3600)
  })

  it('says nothing before it has seven nights to compare with', () => {
    const early = demand(T0, 8, (t) => (t >= T0 + 3 * DAY && t < T0 + 3 * DAY + 6 * HOUR ? 20 : undefined))
    expect(nights(early)).toEqual([])
  })

  it('leaves nights with too few readings out of the baseline', () => {
    // Night 5 has one reading, at 03:30: it stands for the half hour left, a quarter of the period.
    const sparse = demand(T0, 10).filter((i) => i.t < T0 + 5 * DAY || i.t >= T0 + 6 * DAY || i.t === T0 + 5 * DAY + 3.5 * HOUR)
    const { state } = run(stepBaseline, outOfHours, initialBaselineState(), sparse)
    expect(state.past.map(([day]) => day - T0 / DAY)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9])
  })

  it('keeps no more past nights than it compares with', () => {
    const { state } = run(stepBaseline, outOfHours, initialBaselineState(), demand(T0, 40))
    expect(state.past).toHaveLength(28)
  })

  it('follows local time on the day the clocks go forward (29 March 2026)', () => {
    // High 01:00–02:30 UTC: on Saturday that is 01:00–02:30 GMT (half an hour in the period),
    // on Sunday 02:00–03:30 BST (an hour and a half in it).
    const high = (day: string) => (t: number) => (t >= z(`${day}T01:00:00Z`) && t < z(`${day}T02:30:00Z`) ? 20 : undefined)
    const from = z('2026-03-10T00:00:00Z')
    expect(nights(demand(from, 20, high('2026-03-28')))).toEqual([])
    expect(nights(demand(from, 20, high('2026-03-29')))).toEqual([
      [z('2026-03-29T02:00:00Z'), 'raised'],
      [z('2026-03-29T03:00:00Z'), 'cleared'],
    ])
  })

  it('follows local time on the day the clocks go back (25 October 2026)', () => {
    const high = (day: string) => (t: number) => (t >= z(`${day}T01:00:00Z`) && t < z(`${day}T02:30:00Z`) ? 20 : undefined)
    const from = z('2026-10-06T00:00:00Z')
    expect(nights(demand(from, 20, high('2026-10-24')))).toEqual([
      [z('2026-10-24T02:00:00Z'), 'raised'],
      [z('2026-10-24T03:00:00Z'), 'cleared'],
    ])
    expect(nights(demand(from, 20, high('2026-10-25')))).toEqual([])
  })

  it('counts a local hour that happens twice as two hours, and one that never happens as no period', () => {
    const rule = BaselineRule.parse({ ...outOfHours, from: '01:00', to: '02:00', minPeriods: 3, forS: 5400 })
    const high = (from: string, to: string) => (t: number) => (t >= z(from) && t < z(to) ? 20 : undefined)
    // 25 October: 01:00–02:00 BST then 01:00–02:00 GMT, 00:00–02:00 UTC.
    expect(nights(demand(z('2026-10-10T00:00:00Z'), 20, high('2026-10-25T00:00:00Z', '2026-10-25T02:00:00Z')), rule)).toEqual([
      [z('2026-10-25T01:30:00Z'), 'raised'],
      [z('2026-10-25T02:00:00Z'), 'cleared'],
    ])
    // 29 March: no reading falls in 01:00–02:00 local, so that night has no period at all.
    const { state } = run(stepBaseline, rule, initialBaselineState(), demand(z('2026-03-20T00:00:00Z'), 15))
    const days = state.past.map(([day]) => new Date(day * DAY).toISOString().slice(0, 10))
    expect(days).not.toContain('2026-03-29')
    expect(days).toContain('2026-03-28')
    expect(days).toContain('2026-03-30')
  })

  it('ignores input no newer than the newest', () => {
    const { state } = run(stepBaseline, outOfHours, initialBaselineState(), demand(T0, 2))
    for (const t of [T0, state.now!]) expect(stepBaseline(outOfHours, state, { t, value: 99 }).state).toBe(state)
  })

  it('gives the same transitions when restarted anywhere', () => {
    expectRestartSafe(stepBaseline, outOfHours, initialBaselineState(), inputs, 5)
  })
})

describe('baseline rule: a day against the same weekday (period mode)', () => {
  // Hourly: weekdays 30 kW, weekends 8 kW; one Wednesday at 40 kW.
  const weekday = (t: number) => new Date(t).getUTCDay() % 6 !== 0
  const profile = (highDay: number) => (t: number) => (t >= highDay && t < highDay + DAY ? 40 : weekday(t) ? 30 : 8) + wobble(t / MIN)
  const wednesday = (week: number) => T0 + week * 7 * DAY + 2 * DAY

  it('raises when the day has ended above its weekday’s median, and clears the next day', () => {
    const inputs = series(T0, T0 + 42 * DAY, HOUR, profile(wednesday(5)))
    expect(transitions(stepBaseline, aboveBaseline, initialBaselineState(), inputs)).toEqual([
      [wednesday(5) + DAY, 'raised'],
      [wednesday(5) + 2 * DAY, 'cleared'],
    ])
  })

  it('needs four past weeks first', () => {
    const inputs = series(T0, T0 + 42 * DAY, HOUR, profile(wednesday(3)))
    expect(transitions(stepBaseline, aboveBaseline, initialBaselineState(), inputs)).toEqual([])
  })

  it('gives the same transitions when restarted anywhere', () => {
    const inputs = series(T0, T0 + 42 * DAY, HOUR, profile(wednesday(5)))
    expectRestartSafe(stepBaseline, aboveBaseline, initialBaselineState(), inputs, 11)
  })
})
