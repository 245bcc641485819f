import { z } from 'zod'
import {
  checkEscalation,
  Direction,
  Duration,
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
 * Time beyond a level within a rolling window, e.g. Approved Document F: relative humidity over
 * 70 % for more than 2 h in any 12 h (domain.md §5.3 "Building-regs moisture criterion").
 * Time is real elapsed time, so a window across a clock change is 12 real hours.
 */
export const WindowRule = z
  .object({
    kind: z.literal('window'),
    ...ruleBase,
    field: Field,
    direction: Direction,
    level: z.number(),
    moreThanS: PositiveDuration,
    windowS: PositiveDuration,
    /** Cleared once the time beyond the level in the window is down to this (default moreThanS). */
    clearAtS: Duration.optional(),
    /** A reading stands for at most this long: after a longer gap we do not assume the level held. */
    maxGapS: PositiveDuration.default(3600),
  })
  .superRefine(checkEscalation)
  .superRefine((r, ctx) => {
    if (r.moreThanS >= r.windowS) ctx.addIssue({ code: 'custom', message: 'moreThanS must be shorter than windowS', path: ['moreThanS'] })
    if (r.clearAtS !== undefined && r.clearAtS > r.moreThanS) {
      ctx.addIssue({ code: 'custom', message: 'clearAtS cannot exceed moreThanS', path: ['clearAtS'] })
    }
  })
export type WindowRule = z.infer<typeof WindowRule>

/**
 * Past spans beyond the level are kept only while they overlap the window. A value that flaps
 * every reading would make many short spans; past this many the two closest merge, counting
 * the short gap between them as beyond the level (errs towards raising, never towards silence).
 */
export const WINDOW_MAX_SPANS = 48

export const WindowState = z.object({
  /** Newest input time, reading or tick. */
  now: z.number().nullable(),
  /** The newest reading: whether it was beyond the level, and when. */
  cur: z.object({ t: z.number(), on: z.boolean() }).nullable(),
  spans: z.array(z.tuple([z.number(), z.number()])).max(WINDOW_MAX_SPANS),
  active: z.boolean(),
})
export type WindowState = z.infer<typeof WindowState>
type Span = [number, number]

export const initialWindowState = (): WindowState => ({ now: null, cur: null, spans: [], active: false })

function withSpan(spans: readonly Span[], start: number, end: number): Span[] {
  const last = spans[spans.length - 1]
  if (last && last[1] >= start) return [...spans.slice(0, -1), [last[0], Math.max(last[1], end)]]
  const out: Span[] = [...spans, [start, end]]
  if (out.length <= WINDOW_MAX_SPANS) return out
  let at = 0
  for (let i = 1; i < out.length - 1; i++) if (out[i + 1]![0] - out[i]![1] < out[at + 1]![0] - out[at]![1]) at = i
  out.splice(at, 2, [out[at]![0], out[at + 1]![1]])
  return out
}

const overlap = (spans: readonly Span[], from: number, to: number) =>
  spans.reduce((sum, [s, e]) => sum + Math.max(0, Math.min(e, to) - Math.max(s, from)), 0)

/**
 * A reading closes the previous one's span; a call with no value is a clock tick that only
 * slides the window (so an alert can clear while the device is quiet). value: seconds beyond
 * the level in the window ending now. The time beyond the level peaks at the end of a span, so
 * that moment is checked too: a peak between readings is not missed.
 */
export function stepWindow(rule: WindowRule, state: WindowState, input: RuleStepInput): RuleStepResult<WindowState> {
  const { t, value } = input
  if (!usableTime(t) || (state.now !== null && t <= state.now)) return unchanged(state)
  const windowMs = rule.windowS * 1000
  const holdMs = rule.maxGapS * 1000
  let spans: Span[] = state.spans
  let cur = state.cur
  let peak = 0
  if (usable(value)) {
    if (cur?.on) {
      const end = Math.min(t, cur.t + holdMs)
      spans = withSpan(spans, cur.t, end)
      peak = overlap(spans, end - windowMs, end)
    }
    cur = { t, on: meets(rule.direction, value, rule.level) }
  }
  spans = spans.filter(([, e]) => e > t - windowMs)
  const open: Span[] = cur?.on ? [[cur.t, Math.min(t, cur.t + holdMs)]] : []
  const beyondMs = overlap([...spans, ...open], t - windowMs, t)
  const next: WindowState = { now: t, cur, spans, active: state.active }
  const detail = { peakS: Math.max(peak, beyondMs) / 1000 }
  const seconds = beyondMs / 1000
  if (!state.active && Math.max(peak, beyondMs) > rule.moreThanS * 1000) {
    return { state: { ...next, active: true }, transition: 'raised', value: seconds, detail }
  }
  if (state.active && beyondMs <= (rule.clearAtS ?? rule.moreThanS) * 1000) {
    return { state: { ...next, active: false }, transition: 'cleared', value: seconds, detail }
  }
  return { state: next, transition: null, value: seconds, detail }
}
