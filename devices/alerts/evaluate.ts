import type { AlertRule } from './rule.ts'

/** Per (device, rule) state; `breaches` counts consecutive readings past `raiseAt`. */
export interface RuleState {
  active: boolean
  breaches: number
}

export const INITIAL_RULE_STATE: RuleState = Object.freeze({ active: false, breaches: 0 })

export type Transition = 'raised' | 'cleared' | null

export interface Evaluation {
  state: RuleState
  transition: Transition
}

const breached = (rule: AlertRule, v: number) => (rule.direction === 'above' ? v >= rule.raiseAt : v <= rule.raiseAt)
const cleared = (rule: AlertRule, v: number) => (rule.direction === 'above' ? v < rule.clearAt : v > rule.clearAt)

/**
 * Pure rule evaluation. Only transitions are reported; a value inside the
 * hysteresis band keeps whatever state the rule is in. A missing field
 * (undefined) leaves the state untouched.
 */
export function evaluate(rule: AlertRule, state: RuleState, value: number | undefined): Evaluation {
  if (value === undefined || Number.isNaN(value)) return { state, transition: null }
  if (state.active) {
    if (cleared(rule, value)) return { state: { active: false, breaches: 0 }, transition: 'cleared' }
    return { state, transition: null }
  }
  if (breached(rule, value)) {
    const breaches = state.breaches + 1
    if (breaches >= rule.consecutive) return { state: { active: true, breaches }, transition: 'raised' }
    return { state: { active: false, breaches }, transition: null }
  }
  return state.breaches === 0 ? { state, transition: null } : { state: INITIAL_RULE_STATE, transition: null }
}
