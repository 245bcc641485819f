import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initialSilenceState, isSilent, type RuleStepInput, SilenceRule, stepSilence } from '#devices'
import { offline } from './examples.ts'
import { expectRestartSafe, HOUR, MIN, run, T0, ticks, transitions } from './run.ts'

const silence = (inputs: RuleStepInput[], rule: SilenceRule = offline) => transitions(stepSilence, rule, initialSilenceState(), inputs)
// Boilers report every 5 minutes (domain.md §5.2); offline after 3 missed intervals (§5.1).
const every5 = (inputs: RuleStepInput[]) => inputs.map((i) => ({ ...i, intervalS: 300 }))

describe('silence rule (no valid reading for 3 intervals)', () => {
  it('raises once more than three intervals have passed without a valid reading, and clears on the next', () => {
    const inputs = every5([{ t: T0, value: 1 }, ...ticks(T0 + MIN, T0 + 30 * MIN, MIN), { t: T0 + 30 * MIN, value: 1 }])
    expect(silence(inputs)).toEqual([
      [T0 + 16 * MIN, 'raised'],
      [T0 + 30 * MIN, 'cleared'],
    ])
  })

  it('agrees with today’s isSilent() at every tick', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3600 }),
        fc.array(fc.integer({ min: 1, max: 20 * 60_000 }), { maxLength: 40 }),
        (intervalS, gaps) => {
          let t = T0
          let state = stepSilence(offline, initialSilenceState(), { t, value: 1, intervalS }).state
          for (const gap of gaps) {
            t += gap
            const r = stepSilence(offline, state, { t, intervalS })
            expect(r.state.active).toBe(isSilent(T0, intervalS, t))
            state = r.state
          }
        },
      ),
    )
  })

  it('does not count a keep-alive or a reading without a usable value as heard', () => {
    const inputs = every5([{ t: T0, value: 1 }, { t: T0 + 10 * MIN, value: Number.NaN }, { t: T0 + 16 * MIN }])
    expect(silence(inputs)).toEqual([[T0 + 16 * MIN, 'raised']])
  })

  it('counts a device never heard from from the first look', () => {
    expect(silence(every5(ticks(T0, T0 + HOUR, 5 * MIN)))).toEqual([[T0 + 20 * MIN, 'raised']])
  })

  it('lets the rule’s own interval override the device’s', () => {
    const slow = SilenceRule.parse({ ...offline, intervalS: 1200 })
    expect(silence(every5([{ t: T0, value: 1 }, ...ticks(T0 + 5 * MIN, T0 + 2 * HOUR, 5 * MIN)]), slow)).toEqual([
      [T0 + 65 * MIN, 'raised'],
    ])
  })

  it('cannot raise without any interval', () => {
    expect(silence([{ t: T0, value: 1 }, ...ticks(T0 + HOUR, T0 + 24 * HOUR, HOUR)])).toEqual([])
  })

  it('ignores input older than the newest, but not a reading at the same time as a tick', () => {
    const { state } = run(stepSilence, offline, initialSilenceState(), every5([{ t: T0, value: 1 }, { t: T0 + 16 * MIN }]))
    expect(state.active).toBe(true)
    expect(stepSilence(offline, state, { t: T0 + 15 * MIN, value: 1 }).state).toBe(state)
    expect(stepSilence(offline, state, { t: T0 + 16 * MIN, value: 1 }).transition).toBe('cleared')
  })

  it('gives the same transitions when restarted anywhere', () => {
    const inputs = every5([
      { t: T0, value: 1 },
      ...ticks(T0 + MIN, T0 + HOUR, 2 * MIN),
      { t: T0 + HOUR, value: 1 },
      ...ticks(T0 + 61 * MIN, T0 + 2 * HOUR, 7 * MIN),
    ])
    expectRestartSafe(stepSilence, offline, initialSilenceState(), inputs)
  })
})
