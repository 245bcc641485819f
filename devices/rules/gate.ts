import { z } from 'zod'
import type { Transition } from '../alerts/evaluate.ts'
import { Direction, Duration } from './base.ts'

/**
 * Hysteresis, debounce and minimum duration (domain.md §3.2 item 5), shared by every kind that
 * compares one number per reading with a level: the reading itself, a rate, a slope, a margin.
 */
export const hysteresis = {
  direction: Direction,
  raiseAt: z.number(),
  clearAt: z.number(),
  consecutive: z.number().int().min(1).max(100).default(1),
  clearConsecutive: z.number().int().min(1).max(100).default(1),
  /** The breach must have lasted this long (first breaching reading to now) before raising. */
  forS: Duration.default(0),
  /** Likewise before clearing: a clear delay, so a brief dip does not end the alert. */
  clearForS: Duration.default(0),
}
const Hysteresis = z.object(hysteresis)
export type Hysteresis = z.infer<typeof Hysteresis>

export function checkBand(r: { direction: Direction; raiseAt: number; clearAt: number }, ctx: z.RefinementCtx) {
  if (r.direction === 'above' ? r.clearAt > r.raiseAt : r.clearAt < r.raiseAt) {
    ctx.addIssue({ code: 'custom', message: 'clearAt must lie on the safe side of raiseAt (hysteresis band)', path: ['clearAt'] })
  }
}

/**
 * While inactive, `count` and `since` describe the run of readings past `raiseAt`; while active,
 * the run past `clearAt`. `last` is the newest reading evaluated. since/last default to null so
 * that today's saved `{ active, count }` states restore as they are.
 */
export const GateState = z.object({
  active: z.boolean(),
  count: z.number().int().nonnegative(),
  since: z.number().nullable().default(null),
  last: z.number().nullable().default(null),
})
export type GateState = z.infer<typeof GateState>

export const initialGate = (): GateState => ({ active: false, count: 0, since: null, last: null })

const breached = (p: Hysteresis, v: number) => (p.direction === 'above' ? v >= p.raiseAt : v <= p.raiseAt)
const clearedBy = (p: Hysteresis, v: number) => (p.direction === 'above' ? v < p.clearAt : v > p.clearAt)

/**
 * One evaluated number at time t. A value inside the band keeps the rule where it is. With
 * `maxGapMs`, a pending run broken by a longer silence starts again: nobody knows what the
 * value did in between, so it cannot count towards `consecutive` or `forS`.
 */
export function gate(p: Hysteresis, s: GateState, t: number, v: number, maxGapMs?: number): { state: GateState; transition: Transition } {
  if (s.last !== null && t <= s.last) return { state: s, transition: null }
  const broken = maxGapMs !== undefined && s.last !== null && t - s.last > maxGapMs
  const count = broken ? 0 : s.count
  const since = broken ? null : s.since
  const pastLevel = s.active ? clearedBy(p, v) : breached(p, v)
  if (!pastLevel) return { state: { active: s.active, count: 0, since: null, last: t }, transition: null }
  const n = count + 1
  const from = since ?? t
  const [needN, needS] = s.active ? [p.clearConsecutive, p.clearForS] : [p.consecutive, p.forS]
  if (n >= needN && t - from >= needS * 1000) {
    return { state: { active: !s.active, count: 0, since: null, last: t }, transition: s.active ? 'cleared' : 'raised' }
  }
  return { state: { active: s.active, count: n, since: from, last: t }, transition: null }
}
