import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AlertRule,
  evaluate,
  INITIAL_RULE_STATE,
  initialThresholdState,
  type RuleState,
  type RuleStepInput,
  restoreRuleState,
  stepThreshold,
  ThresholdRule,
} from '#devices'
import { binFull, boilerNoHeat } from './examples.ts'
import { expectRestartSafe, HOUR, MIN, run, series, T0, transitions, wobble } from './run.ts'

const at = (values: (number | undefined)[], every = 20 * MIN): RuleStepInput[] => values.map((value, i) => ({ t: T0 + i * every, value }))
const outcome = (rule: ThresholdRule, values: (number | undefined)[], every?: number) =>
  run(stepThreshold, rule, initialThresholdState(), at(values, every)).results.map((r) => r.transition)

describe('threshold rule', () => {
  it('gives today’s transitions for the catalogue’s bin-full cases', () => {
    expect(outcome(binFull, [0.96, 0.5, 0.96, 0.97, 0.98])).toEqual([null, null, null, 'raised', null])
    expect(outcome(binFull, [0.96, 0.96, 0.9, 0.75, 0.7, 0.69, 0.5, 0.96])).toEqual([
      null,
      'raised',
      null,
      null,
      null,
      null,
      'cleared',
      null,
    ])
    // A lid-open glitch reads near empty for one sample (domain.md §5.1) and does not clear.
    expect(outcome(binFull, [0.96, 0.97, 0.02, 0.97, 0.5, 0.4])).toEqual([null, 'raised', null, null, null, 'cleared'])
    expect(outcome(binFull, [0.96, undefined, 0.96])).toEqual([null, null, 'raised'])
  })

  it('matches evaluate() on any sequence when no duration or gap is set', () => {
    const params = fc.record({
      direction: fc.constantFrom('above' as const, 'below' as const),
      consecutive: fc.integer({ min: 1, max: 4 }),
      clearConsecutive: fc.integer({ min: 1, max: 4 }),
    })
    const values = fc.array(fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }), { maxLength: 60 })
    fc.assert(
      fc.property(params, values, (p, vs) => {
        const [raiseAt, clearAt] = p.direction === 'above' ? [6, 4] : [4, 6]
        const base = { id: 'x', title: 'x', field: 'f', severity: 'info' as const, raiseAt, clearAt, ...p }
        const old = AlertRule.parse(base)
        let s: RuleState = INITIAL_RULE_STATE
        const expected = vs.map((v) => {
          const e = evaluate(old, s, v)
          s = e.state
          return e.transition
        })
        const rule = ThresholdRule.parse({ ...base, kind: 'threshold', text: 'x' })
        expect(outcome(rule, vs)).toEqual(expected)
      }),
    )
  })

  it('raises only once the breach has lasted the minimum duration', () => {
    // Flow below 35 °C from 00:00; readings every 5 minutes (domain.md §5.2 "report every 5 min").
    const inputs = series(T0, T0 + 2 * HOUR, 5 * MIN, () => 30)
    expect(transitions(stepThreshold, boilerNoHeat, initialThresholdState(), inputs)).toEqual([[T0 + HOUR, 'raised']])
  })

  it('starts the duration again when the value recovers in between', () => {
    const inputs = series(T0, T0 + 2 * HOUR, 5 * MIN, (t) => (t === T0 + 50 * MIN ? 45 : 30))
    expect(transitions(stepThreshold, boilerNoHeat, initialThresholdState(), inputs)).toEqual([[T0 + 115 * MIN, 'raised']])
  })

  it('waits out a clear delay before clearing', () => {
    const rule = ThresholdRule.parse({ ...binFull, consecutive: 1, clearConsecutive: 1, clearForS: 1800 })
    // 20 minutes below, interrupted; then 30 minutes below from 00:40.
    const inputs = at([0.96, 0.5, 0.5, 0.96, 0.5, 0.5, 0.5, 0.5], 10 * MIN)
    expect(transitions(stepThreshold, rule, initialThresholdState(), inputs)).toEqual([
      [T0, 'raised'],
      [T0 + 70 * MIN, 'cleared'],
    ])
  })

  it('holds inside the hysteresis band', () => {
    expect(outcome(binFull, [0.96, 0.97, 0.8, 0.75, 0.71, 0.94, 0.8])).toEqual([null, 'raised', null, null, null, null, null])
  })

  it('does not count readings on either side of a long gap as consecutive when maxGapS is set', () => {
    const rule = ThresholdRule.parse({ ...binFull, maxGapS: 3600 })
    const inputs: RuleStepInput[] = [
      { t: T0, value: 0.96 },
      { t: T0 + 3 * HOUR, value: 0.96 },
      { t: T0 + 3 * HOUR + 20 * MIN, value: 0.97 },
    ]
    expect(transitions(stepThreshold, rule, initialThresholdState(), inputs)).toEqual([[T0 + 3 * HOUR + 20 * MIN, 'raised']])
    // Without it (today's semantics) consecutive means consecutive readings, however far apart.
    expect(transitions(stepThreshold, binFull, initialThresholdState(), inputs)).toEqual([[T0 + 3 * HOUR, 'raised']])
  })

  it('ignores a reading no newer than the newest evaluated', () => {
    const first = stepThreshold(binFull, initialThresholdState(), { t: T0 + HOUR, value: 0.96 })
    for (const t of [T0, T0 + HOUR]) {
      const late = stepThreshold(binFull, first.state, { t, value: 0.99 })
      expect(late.state).toBe(first.state)
      expect(late.transition).toBeNull()
    }
  })

  it('gives the same transitions when restarted anywhere', () => {
    const inputs = series(T0, T0 + 12 * HOUR, 5 * MIN, (t) => 36 + 8 * wobble(t / MIN) - (t > T0 + 3 * HOUR && t < T0 + 6 * HOUR ? 10 : 0))
    expectRestartSafe(stepThreshold, boilerNoHeat, initialThresholdState(), inputs)
  })

  it('restores a state saved by today’s engine ({ active, count }) and clears from it', () => {
    const state = restoreRuleState(binFull, { active: true, count: 0 })
    const inputs = at([0.5, 0.4])
    expect(run(stepThreshold, binFull, state, inputs).results.map((r) => r.transition)).toEqual([null, 'cleared'])
  })

  it('refuses a clear level on the wrong side and an escalation that does not escalate', () => {
    expect(ThresholdRule.safeParse({ ...binFull, clearAt: 0.99 }).success).toBe(false)
    expect(ThresholdRule.safeParse({ ...binFull, escalation: { afterS: 60, to: 'info' } }).success).toBe(false)
    expect(ThresholdRule.safeParse({ ...binFull, escalation: { afterS: 60, to: 'critical' } }).success).toBe(true)
  })
})
