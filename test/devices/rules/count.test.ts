import { describe, expect, it } from 'vitest'
import { CountRule, initialCountState, type RuleStepInput, stepCount } from '#devices'
import { lockoutsRepeated } from './examples.ts'
import { DAY, expectRestartSafe, HOUR, MIN, run, series, T0, ticks, transitions } from './run.ts'

const h = (hours: number, minutes = 0) => T0 + hours * HOUR + minutes * MIN
/** Boiler readings every 5 minutes (domain.md §5.2); lockout = 1 for 15 minutes from each start. */
const lockouts = (starts: number[], to = T0 + 2 * DAY) =>
  series(T0, to, 5 * MIN, (t) => (starts.some((s) => t >= s && t < s + 15 * MIN) ? 1 : 0))
const repeated = (inputs: RuleStepInput[], rule: CountRule = lockoutsRepeated) => transitions(stepCount, rule, initialCountState(), inputs)

describe('count rule (3 or more lockouts in 24 hours)', () => {
  it('raises at the third lockout and clears when the first leaves the window', () => {
    expect(repeated(lockouts([h(1), h(6), h(11)]))).toEqual([
      [h(11), 'raised'],
      [h(25), 'cleared'],
    ])
  })

  it('counts a lockout that lasts several readings once', () => {
    const { results } = run(stepCount, lockoutsRepeated, initialCountState(), lockouts([h(1), h(6)], h(12)))
    expect(results.at(-1)!.value).toBe(2)
    expect(results.every((r) => r.transition === null)).toBe(true)
  })

  it('counts every reading when asked to', () => {
    const rule = CountRule.parse({ ...lockoutsRepeated, counts: 'readings' })
    expect(repeated(lockouts([h(1)], h(2)), rule)).toEqual([[h(1, 10), 'raised']])
  })

  it('does not raise when three lockouts are spread over more than a day', () => {
    expect(repeated(lockouts([h(1), h(14), h(26)], T0 + 3 * DAY))).toEqual([])
  })

  it('clears on clock ticks while the boiler is quiet', () => {
    const inputs = [...lockouts([h(1), h(2), h(3)], h(4)), ...ticks(h(4), h(30), HOUR)]
    expect(repeated(inputs)).toEqual([
      [h(3), 'raised'],
      [h(25), 'cleared'],
    ])
  })

  it('holds between clearBelow and atLeast (hysteresis)', () => {
    const rule = CountRule.parse({ ...lockoutsRepeated, clearBelow: 2 })
    expect(repeated(lockouts([h(1), h(6), h(11)]), rule)).toEqual([
      [h(11), 'raised'],
      [h(30), 'cleared'],
    ])
  })

  it('treats a lockout still showing after a long gap as the same one, unless maxGapS says otherwise', () => {
    const inputs: RuleStepInput[] = [
      { t: h(1), value: 1 },
      { t: h(7), value: 1 },
      { t: h(8), value: 0 },
      { t: h(9), value: 1 },
    ]
    expect(run(stepCount, lockoutsRepeated, initialCountState(), inputs).results.at(-1)!.value).toBe(2)
    const rule = CountRule.parse({ ...lockoutsRepeated, maxGapS: 3600 })
    expect(repeated(inputs, rule)).toEqual([[h(9), 'raised']])
  })

  it('keeps only as many event times as it needs', () => {
    const starts = Array.from({ length: 40 }, (_, i) => h(i))
    const { state } = run(stepCount, lockoutsRepeated, initialCountState(), lockouts(starts))
    expect(state.events.length).toBeLessThanOrEqual(lockoutsRepeated.atLeast)
  })

  it('ignores input no newer than the newest', () => {
    const { state } = run(stepCount, lockoutsRepeated, initialCountState(), lockouts([h(1)], h(2)))
    for (const t of [h(1), state.now!]) expect(stepCount(lockoutsRepeated, state, { t, value: 1 }).state).toBe(state)
  })

  it('gives the same transitions when restarted anywhere', () => {
    const inputs = [...lockouts([h(1), h(6), h(11), h(20)], h(22)), ...ticks(h(22), h(48), HOUR)]
    expectRestartSafe(stepCount, lockoutsRepeated, initialCountState(), inputs)
  })

  it('refuses clearBelow above atLeast', () => {
    expect(CountRule.safeParse({ ...lockoutsRepeated, clearBelow: 4 }).success).toBe(false)
  })
})
