import { z } from 'zod'
import {
  checkEscalation,
  Field,
  PositiveDuration,
  type RuleStepInput,
  type RuleStepResult,
  ruleBase,
  unchanged,
  usable,
  usableTime,
} from './base.ts'
import { checkBand, GateState, gate, hysteresis, initialGate } from './gate.ts'

/**
 * Today's rule (devices/alerts/rule.ts + evaluate.ts): one field against a level, with a
 * hysteresis band, `consecutive` debounce, `clearConsecutive`, and now a minimum duration.
 * With the defaults it gives exactly today's transitions.
 */
export const ThresholdRule = z
  .object({
    kind: z.literal('threshold'),
    ...ruleBase,
    field: Field,
    ...hysteresis,
    /** A pending run broken by a longer gap between readings starts again (default: never). */
    maxGapS: PositiveDuration.optional(),
  })
  .superRefine(checkBand)
  .superRefine(checkEscalation)
export type ThresholdRule = z.infer<typeof ThresholdRule>

export const ThresholdState = GateState
export type ThresholdState = GateState
export const initialThresholdState = initialGate

/** value: the reading. A missing or non-finite value leaves the state untouched, as today. */
export function stepThreshold(rule: ThresholdRule, state: ThresholdState, input: RuleStepInput): RuleStepResult<ThresholdState> {
  const { t, value } = input
  if (!usableTime(t) || !usable(value)) return unchanged(state)
  if (state.last !== null && t <= state.last) return unchanged(state)
  const r = gate(rule, state, t, value, rule.maxGapS === undefined ? undefined : rule.maxGapS * 1000)
  return { state: r.state, transition: r.transition, value }
}
