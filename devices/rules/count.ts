import { z } from 'zod'
import {
  checkEscalation,
  Direction,
  Field,
  meets,
  PositiveDuration,
  type RuleStepInput,
  type RuleStepResult,
  ruleBase,
  unchanged,
  usable,
  usableTime,
} from './base.ts'

/**
 * Events within a rolling window, e.g. 3 or more boiler lockouts in 24 hours (domain.md §5.2
 * defaults: "escalate after 3 lockouts in 24 h"). An event is a reading that meets the level.
 */
export const CountRule = z
  .object({
    kind: z.literal('count'),
    ...ruleBase,
    field: Field,
    direction: Direction.default('above'),
    /** A boolean field reads as 0/1, so level 1 counts `true`. */
    level: z.number(),
    atLeast: z.number().int().min(1).max(100),
    windowS: PositiveDuration,
    /** Cleared once fewer than this many remain in the window (default atLeast). */
    clearBelow: z.number().int().min(1).max(100).optional(),
    /**
     * 'episodes': a lockout reported by five readings in a row is one lockout, counted when it
     * starts. 'readings': every reading that meets the level counts.
     */
    counts: z.enum(['episodes', 'readings']).default('episodes'),
    /** After a longer silence a reading still meeting the level is a new episode (default: never). */
    maxGapS: PositiveDuration.optional(),
  })
  .superRefine(checkEscalation)
  .superRefine((r, ctx) => {
    if (r.clearBelow !== undefined && r.clearBelow > r.atLeast) {
      ctx.addIssue({ code: 'custom', message: 'clearBelow cannot exceed atLeast', path: ['clearBelow'] })
    }
  })
export type CountRule = z.infer<typeof CountRule>

/**
 * Only the newest `atLeast` event times are kept: whether the window holds at least k events,
 * for any k up to atLeast, depends on nothing else, so the state is exact and bounded.
 */
export const CountState = z.object({
  now: z.number().nullable(),
  /** Whether the newest reading met the level, and when it came. */
  prev: z.object({ t: z.number(), on: z.boolean() }).nullable(),
  events: z.array(z.number()).max(100),
  active: z.boolean(),
})
export type CountState = z.infer<typeof CountState>

export const initialCountState = (): CountState => ({ now: null, prev: null, events: [], active: false })

/** A call with no value is a clock tick: the window slides and the alert can clear. value: events in the window. */
export function stepCount(rule: CountRule, state: CountState, input: RuleStepInput): RuleStepResult<CountState> {
  const { t, value } = input
  if (!usableTime(t) || (state.now !== null && t <= state.now)) return unchanged(state)
  let { prev, events } = state
  if (usable(value)) {
    const on = meets(rule.direction, value, rule.level)
    const afterGap = rule.maxGapS !== undefined && prev !== null && t - prev.t > rule.maxGapS * 1000
    const counted = on && (rule.counts === 'readings' || !prev?.on || afterGap)
    if (counted) events = [...events, t].slice(-rule.atLeast)
    prev = { t, on }
  }
  const from = t - rule.windowS * 1000
  const inWindow = events.filter((e) => e > from)
  const n = inWindow.length
  const next: CountState = { now: t, prev, events: inWindow, active: state.active }
  const detail = { oldestAt: inWindow[0] ?? null }
  if (!state.active && n >= rule.atLeast) return { state: { ...next, active: true }, transition: 'raised', value: n, detail }
  if (state.active && n < (rule.clearBelow ?? rule.atLeast))
    return { state: { ...next, active: false }, transition: 'cleared', value: n, detail }
  return { state: next, transition: null, value: n, detail }
}
