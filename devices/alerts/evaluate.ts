import type { AlertRule } from './rule.ts'

/**
 * Per (device, rule) state. While inactive, `count` is the run of consecutive
 * readings past `raiseAt`; while active, the run past `clearAt`.
 */
export interface RuleState {
  active: boolean
  count: number
}

export const INITIAL_RULE_STATE: RuleState = Object.freeze({ active: false, count: 0 })
const ACTIVE: RuleState = Object.freeze({ active: true, count: 0 })

export type Transition = 'raised' | 'cleared' | null

export interface Evaluation {
  state: RuleState
  transition: Transition
}

const breached = (rule: AlertRule, v: number) => (rule.direction === 'above' ? v >= rule.raiseAt : v <= rule.raiseAt)
const cleared = (rule: AlertRule, v: number) => (rule.direction === 'above' ? v < rule.clearAt : v > rule.clearAt)

/**
 * Pure rule evaluation. Only transitions are reported. A value inside the
 * hysteresis band keeps the rule where it is; raising needs `consecutive`
 * breaches and clearing `clearConsecutive` readings past `clearAt`, so one
 * outlier (a lid-open reading near empty, say) neither raises nor clears.
 * A missing field (undefined) leaves the state untouched.
 */
export function evaluate(rule: AlertRule, state: RuleState, value: number | undefined): Evaluation {
  if (value === undefined || Number.isNaN(value)) return { state, transition: null }
  if (state.active) {
    if (!cleared(rule, value)) return { state: state.count === 0 ? state : ACTIVE, transition: null }
    const count = state.count + 1
    if (count >= rule.clearConsecutive) return { state: INITIAL_RULE_STATE, transition: 'cleared' }
    return { state: { active: true, count }, transition: null }
  }
  if (!breached(rule, value)) return { state: state.count === 0 ? state : INITIAL_RULE_STATE, transition: null }
  const count = state.count + 1
  if (count >= rule.consecutive) return { state: ACTIVE, transition: 'raised' }
  return { state: { active: false, count }, transition: null }
}
