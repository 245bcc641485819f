import { z } from 'zod'
import {
  checkEscalation,
  Direction,
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
import { GateState, gate, type Hysteresis, initialGate } from './gate.ts'
import { theilSen } from './robust.ts'

/**
 * Time until a level is reached, from a robust rate: "will overflow before Thursday's collection"
 * rather than "is 82 % full" (domain.md §3.3 item 11; uCIFI 3435 fill rate and forecast-full date).
 */
export const ForecastRule = z
  .object({
    kind: z.literal('forecast'),
    ...ruleBase,
    field: Field,
    /** 'above': the level is reached going up (a bin filling); 'below': going down. */
    direction: Direction.default('above'),
    level: z.number(),
    /** History the rate is estimated from. */
    windowS: PositiveDuration.min(60),
    /** Unit of the rate reported in the detail. */
    per: TimeUnit.default('day'),
    minPoints: z.number().int().min(3).max(100).default(4),
    minSpanS: Duration.default(3600),
    /**
     * A move against the direction larger than this, seen in two readings in a row, resets the
     * history (a collection empties the bin). Seen in one reading only, it is a glitch (a lid-open
     * reading near empty, domain.md §5.1 defaults) and is dropped.
     */
    resetJump: z.number().positive().optional(),
    /** Raise when the level will be reached within this time; an input `before` deadline wins. */
    withinS: PositiveDuration.optional(),
    consecutive: z.number().int().min(1).max(100).default(1),
    clearConsecutive: z.number().int().min(1).max(100).default(1),
  })
  .superRefine(checkEscalation)
export type ForecastRule = z.infer<typeof ForecastRule>

/** Readings kept for the fit: Theil–Sen is quadratic in them. */
export const FORECAST_MAX_POINTS = 24

const Point = z.tuple([z.number(), z.number()])
type Point = z.infer<typeof Point>

export const ForecastState = z.object({
  points: z.array(Point).max(FORECAST_MAX_POINTS),
  /** A jump against the direction waiting for the next reading to confirm it. */
  pending: Point.nullable(),
  last: z.number().nullable(),
  gate: GateState,
})
export type ForecastState = z.infer<typeof ForecastState>

export const initialForecastState = (): ForecastState => ({ points: [], pending: null, last: null, gate: initialGate() })

/**
 * Past FORECAST_MAX_POINTS readings, the one whose neighbours are closest together goes: the
 * first and newest stay, the rest thin out evenly, so a young history is dense and an old one
 * still spans the whole window.
 */
function thin(points: Point[]): Point[] {
  if (points.length <= FORECAST_MAX_POINTS) return points
  let drop = 1
  for (let i = 2; i < points.length - 1; i++) {
    if (points[i + 1]![0] - points[i - 1]![0] < points[drop + 1]![0] - points[drop - 1]![0]) drop = i
  }
  return [...points.slice(0, drop), ...points.slice(drop + 1)]
}

/** Margin = deadline − forecast time: raised at ≥ 0, i.e. the level comes first. */
const bandOf = (rule: ForecastRule): Hysteresis => ({
  direction: 'above',
  raiseAt: 0,
  clearAt: 0,
  consecutive: rule.consecutive,
  clearConsecutive: rule.clearConsecutive,
  forS: 0,
  clearForS: 0,
})

/**
 * value: seconds until the level (0 when already there), when the rate points towards it.
 * detail: rate per `per`, the estimated level now, the forecast time; after a reset also the
 * level before and after it and when it happened, so the caller can record a collection.
 */
export function stepForecast(rule: ForecastRule, state: ForecastState, input: RuleStepInput): RuleStepResult<ForecastState> {
  const { t, value } = input
  if (!usableTime(t) || !usable(value)) return unchanged(state)
  if (state.last !== null && t <= state.last) return unchanged(state)
  const windowMs = rule.windowS * 1000
  let points = state.points.filter(([pt]) => pt > t - windowMs)
  let g = state.gate
  const ref = points[points.length - 1]
  const jump = rule.resetJump
  const jumped = jump !== undefined && ref !== undefined && (rule.direction === 'above' ? value < ref[1] - jump : value > ref[1] + jump)
  let reset: { before: number; after: number; resetAt: number } | null = null
  if (jumped && state.pending === null) {
    return { state: { points, pending: [t, value], last: t, gate: g }, transition: null }
  }
  if (jumped && state.pending !== null) {
    reset = { before: ref![1], after: value, resetAt: state.pending[0] }
    points = [state.pending, [t, value]]
    g = { ...initialGate(), last: g.last }
  } else {
    points = thin([...points, [t, value]])
  }
  // A reset ends the forecast it was built on: an open alert clears with it.
  const transition = reset && state.gate.active ? ('cleared' as const) : null
  const next: ForecastState = { points, pending: null, last: t, gate: g }
  const oldest = points[0]![0]
  const fit = points.length >= rule.minPoints && t - oldest >= rule.minSpanS * 1000 ? theilSen(points, t) : null
  if (!fit) return { state: next, transition, ...(reset && { detail: reset }) }
  const toward = rule.direction === 'above' ? fit.slope : -fit.slope
  const remaining = rule.direction === 'above' ? rule.level - fit.level : fit.level - rule.level
  // A rate too small to ever get there is no forecast, not a date in the year 10^300.
  const raw = remaining <= 0 ? 0 : toward > 0 ? remaining / toward : null
  const etaMs = raw !== null && raw < 1e15 ? raw : null
  // Running down (a battery): when it will be empty at this rate, e.g. days of battery left.
  const emptyAt = rule.direction === 'below' && fit.slope < 0 && fit.level > 0 ? t + fit.level / -fit.slope : null
  const detail = {
    rate: fit.slope * PER_MS[rule.per],
    current: fit.level,
    eta: etaMs === null ? null : t + etaMs,
    ...(rule.direction === 'below' && { emptyAt: emptyAt !== null && emptyAt < 8.64e15 ? emptyAt : null }),
    ...reset,
  }
  const result = { state: next, transition, detail, ...(etaMs !== null && { value: etaMs / 1000 }) }
  const limit = input.before ?? (rule.withinS === undefined ? undefined : t + rule.withinS * 1000)
  if (transition || limit === undefined || !Number.isFinite(limit)) return result
  const margin = etaMs === null ? Number.NEGATIVE_INFINITY : limit - (t + etaMs)
  const r = gate(bandOf(rule), g, t, margin)
  return { ...result, state: { ...next, gate: r.state }, transition: r.transition }
}

/** What a forecast rule's state says now, for people: the rate, the level it reads as, and when it gets there. */
export const ForecastOutlook = z.object({
  ratePerDay: z.number().nullable().describe('change per day, from a robust fit of the fill history since the last collection'),
  level: z.number().nullable().describe('the level the fit reads at the newest reading'),
  at: z.string().nullable().describe('newest reading the history holds, ISO 8601'),
  reachesAt: z.string().nullable().describe('when the level will be reached at that rate, ISO 8601 (null: never, or too little history)'),
})
export type ForecastOutlook = z.infer<typeof ForecastOutlook>

export function forecastOutlook(rule: ForecastRule, state: ForecastState): ForecastOutlook {
  const points = state.points
  const t = state.last
  const oldest = points[0]?.[0]
  const fit =
    t !== null && oldest !== undefined && points.length >= rule.minPoints && t - oldest >= rule.minSpanS * 1000 ? theilSen(points, t) : null
  if (!fit || t === null) return { ratePerDay: null, level: null, at: t === null ? null : new Date(t).toISOString(), reachesAt: null }
  const toward = rule.direction === 'above' ? fit.slope : -fit.slope
  const remaining = rule.direction === 'above' ? rule.level - fit.level : fit.level - rule.level
  const eta = remaining <= 0 ? 0 : toward > 0 ? remaining / toward : null
  return {
    ratePerDay: fit.slope * PER_MS.day,
    level: fit.level,
    at: new Date(t).toISOString(),
    reachesAt: eta !== null && eta < 1e13 ? new Date(t + eta).toISOString() : null,
  }
}
