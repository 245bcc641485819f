import { z } from 'zod'
import {
  checkEscalation,
  PositiveDuration,
  type RuleStepInput,
  type RuleStepResult,
  ruleBase,
  unchanged,
  usable,
  usableTime,
} from './base.ts'

/**
 * No valid reading for `missed` expected intervals (domain.md §5.1 defaults: "offline after 3
 * missed intervals"; §3.2 item 10: activity means a valid reading, not a keep-alive).
 */
export const SilenceRule = z
  .object({
    kind: z.literal('silence'),
    ...ruleBase,
    missed: z.number().int().min(1).max(1000).default(3),
    /** Overrides the device's own expected interval (set at provisioning, passed in the input). */
    intervalS: PositiveDuration.optional(),
  })
  .superRefine(checkEscalation)
export type SilenceRule = z.infer<typeof SilenceRule>

export const SilenceState = z.object({
  now: z.number().nullable(),
  /** Last valid reading, or the first time we looked, so a device never heard from is also counted. */
  heard: z.number().nullable(),
  active: z.boolean(),
})
export type SilenceState = z.infer<typeof SilenceState>

export const initialSilenceState = (): SilenceState => ({ now: null, heard: null, active: false })

/**
 * An input with a value is a valid reading; without one, a clock tick (a keep-alive counts as a
 * tick). Time here is when we heard, so callers pass arrival time. value: seconds silent.
 * A tick at the same time as a reading is not older than it, so the reading still counts.
 */
export function stepSilence(rule: SilenceRule, state: SilenceState, input: RuleStepInput): RuleStepResult<SilenceState> {
  const { t, value } = input
  if (!usableTime(t) || (state.now !== null && t < state.now)) return unchanged(state)
  if (usable(value)) {
    const silentS = state.heard === null ? 0 : (t - state.heard) / 1000
    const next = { now: t, heard: t, active: false }
    return { state: next, transition: state.active ? 'cleared' : null, value: silentS }
  }
  const heard = state.heard ?? t
  const silentS = (t - heard) / 1000
  const intervalS = rule.intervalS ?? input.intervalS
  const due = intervalS !== undefined && Number.isFinite(intervalS) && intervalS > 0 && silentS > rule.missed * intervalS
  const next = { now: t, heard, active: state.active || due }
  return { state: next, transition: due && !state.active ? 'raised' : null, value: silentS }
}
