import { describe, expect, it } from 'vitest'
import { AlertRule, DEVICE_TYPES, evaluate, INITIAL_RULE_STATE, type RuleState } from '#devices'

const full = DEVICE_TYPES.bin.rules.find((r) => r.id === 'bin-full')!
const run = (rule: AlertRule, values: (number | undefined)[]) => {
  let s: RuleState = INITIAL_RULE_STATE
  return values.map((v) => {
    const r = evaluate(rule, s, v)
    s = r.state
    return r.transition
  })
}

describe('evaluate()', () => {
  it('raises only after the configured consecutive breaches', () => {
    expect(run(full, [0.96, 0.5, 0.96, 0.97, 0.98])).toEqual([null, null, null, 'raised', null])
  })

  it('holds inside the hysteresis band and clears after two readings below clearAt', () => {
    expect(run(full, [0.96, 0.96, 0.9, 0.75, 0.7, 0.69, 0.5, 0.96])).toEqual([null, 'raised', null, null, null, null, 'cleared', null])
  })

  it('does not clear on a single near-empty glitch (lid open)', () => {
    expect(run(full, [0.96, 0.97, 0.02, 0.97, 0.5, 0.4])).toEqual([null, 'raised', null, null, null, 'cleared'])
  })

  it('ignores a missing field', () => {
    expect(run(full, [0.96, undefined, 0.96])).toEqual([null, null, 'raised'])
  })

  it('works for rules that fire below a threshold', () => {
    const low = DEVICE_TYPES.boiler.rules.find((r) => r.id === 'boiler-pressure-critical')!
    expect(run(low, [1.2, 0.4, 0.6, 0.81])).toEqual([null, 'raised', null, 'cleared'])
  })

  it('refuses a rule whose clear level is on the wrong side of its raise level', () => {
    const r = AlertRule.safeParse({ id: 'x', title: 'x', field: 'f', direction: 'above', raiseAt: 1, clearAt: 2, severity: 'info' })
    expect(r.success).toBe(false)
  })
})
