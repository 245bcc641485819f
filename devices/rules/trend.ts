import { z } from 'zod'
import {
  checkEscalation,
  Duration,
  Field,
  PER_MS,
  PositiveDuration,
  type RuleStepInput,
  type RuleStepResult,
  ruleBase,
  TimeUnit,
  unchanged,
  usable,
  usableTime,
} from './base.ts'
import { checkBand, GateState, gate, hysteresis, initialGate } from './gate.ts'

/**
 * Least-squares slope of a field over a time window, e.g. a slow leak: cold pressure falling
 * 0.1 bar/day or faster, sustained over 3 days (domain.md §5.2 defaults, "slow leak").
 */
export const TrendRule = z
  .object({
    kind: z.literal('trend'),
    ...ruleBase,
    field: Field,
    // At least a minute: bucket keys must stay safe integers.
    windowS: PositiveDuration.min(60),
    per: TimeUnit.default('day'),
    ...hysteresis,
    minPoints: z.number().int().min(2).max(100_000).default(3),
    /** The readings must span this long before a slope counts (default half the window). */
    minSpanS: Duration.optional(),
  })
  .superRefine(checkBand)
  .superRefine(checkEscalation)
  .superRefine((r, ctx) => {
    if (r.minSpanS !== undefined && r.minSpanS > r.windowS) {
      ctx.addIssue({ code: 'custom', message: 'minSpanS cannot exceed windowS', path: ['minSpanS'] })
    }
  })
export type TrendRule = z.infer<typeof TrendRule>

/**
 * The window is kept as this many buckets of running sums, not as readings: state stays a few
 * hundred bytes however often the device reports, the slope is still exact least squares over
 * every reading kept, and only the window's far edge moves in bucket steps (it covers the
 * window plus at most one bucket).
 */
export const TREND_BUCKETS = 12

/** Times are ms offsets inside the bucket so that squares stay small; means and co-moments (Welford). */
const Bucket = z.object({
  k: z.number().int(),
  n: z.number().int().positive(),
  first: z.number(),
  mt: z.number(),
  mv: z.number(),
  ctt: z.number(),
  ctv: z.number(),
})
type Bucket = z.infer<typeof Bucket>

export const TrendState = z.object({
  size: z.number().positive().nullable(),
  buckets: z.array(Bucket).max(TREND_BUCKETS + 1),
  last: z.number().nullable(),
  gate: GateState,
})
export type TrendState = z.infer<typeof TrendState>

export const initialTrendState = (): TrendState => ({ size: null, buckets: [], last: null, gate: initialGate() })

function add(b: Bucket, x: number, y: number): Bucket {
  const n = b.n + 1
  const dx = x - b.mt
  const mt = b.mt + dx / n
  const mv = b.mv + (y - b.mv) / n
  return { ...b, n, mt, mv, ctt: b.ctt + dx * (x - mt), ctv: b.ctv + dx * (y - mv) }
}

/** Slope per ms over all buckets (Chan's pairwise merge), or null when time does not vary. */
function slopeOf(buckets: readonly Bucket[], size: number): number | null {
  const ref = buckets[buckets.length - 1]!.k
  let n = 0
  let mx = 0
  let my = 0
  let ctt = 0
  let ctv = 0
  for (const b of buckets) {
    const x = (b.k - ref) * size + b.mt
    const total = n + b.n
    const dx = x - mx
    const dy = b.mv - my
    const w = (n * b.n) / total
    ctt += b.ctt + dx * dx * w
    ctv += b.ctv + dx * dy * w
    mx += (dx * b.n) / total
    my += (dy * b.n) / total
    n = total
  }
  return ctt > 0 ? ctv / ctt : null
}

/** value: the slope per `per` once the window holds enough readings; before that nothing changes. */
export function stepTrend(rule: TrendRule, state: TrendState, input: RuleStepInput): RuleStepResult<TrendState> {
  const { t, value } = input
  if (!usableTime(t) || !usable(value)) return unchanged(state)
  if (state.last !== null && t <= state.last) return unchanged(state)
  const windowMs = rule.windowS * 1000
  const size = windowMs / TREND_BUCKETS
  // A window changed by an override makes old buckets meaningless: start again rather than mix sizes.
  const kept = state.size === size ? state.buckets.filter((b) => (b.k + 1) * size > t - windowMs) : []
  const k = Math.floor(t / size)
  const x = t - k * size
  const top = kept[kept.length - 1]
  const buckets =
    top?.k === k ? [...kept.slice(0, -1), add(top, x, value)] : [...kept, { k, n: 1, first: x, mt: x, mv: value, ctt: 0, ctv: 0 }]
  const next: TrendState = { size, buckets, last: t, gate: state.gate }
  const n = buckets.reduce((s, b) => s + b.n, 0)
  const oldest = buckets[0]!
  const spanMs = t - (oldest.k * size + oldest.first)
  const minSpanMs = (rule.minSpanS ?? rule.windowS / 2) * 1000
  if (n < rule.minPoints || spanMs < minSpanMs) return { state: next, transition: null }
  const perMs = slopeOf(buckets, size)
  if (perMs === null) return { state: next, transition: null }
  const slope = perMs * PER_MS[rule.per]
  const g = gate(rule, state.gate, t, slope)
  return { state: { ...next, gate: g.state }, transition: g.transition, value: slope, detail: { points: n, spanS: spanMs / 1000 } }
}
