import { z } from 'zod'
import { DailyPeriod, HhMm, localClock, TimeZone, weekdayOf } from '../calendar/local-time.ts'
import {
  checkEscalation,
  Direction,
  Duration,
  Field,
  PositiveDuration,
  type RuleStepInput,
  type RuleStepResult,
  ruleBase,
  unchanged,
  usable,
  usableTime,
} from './base.ts'
import { quantile } from './robust.ts'

/**
 * A value against a baseline computed from its own past, in a daily local period: out-of-hours
 * demand 02:00–04:00 above the lower decile of the last 28 nights (domain.md §3.5 item 20,
 * §5.4 "Out-of-hours"), or a day's mean demand above the same weekday's median (§5.4
 * "Baseline method").
 */
export const BaselineRule = z
  .object({
    kind: z.literal('baseline'),
    ...ruleBase,
    field: Field,
    /** 'above': more than the baseline is the problem (waste); 'below': less (under-heating). */
    direction: Direction.default('above'),
    timeZone: TimeZone.default('Europe/London'),
    from: HhMm.default('00:00'),
    to: HhMm.default('00:00'),
    sameWeekday: z.boolean().default(false),
    /** How many past periods (of the same weekday, if asked) the baseline is taken from. */
    periods: z.number().int().min(1).max(60).default(28),
    minPeriods: z.number().int().min(1).max(60).default(7),
    quantile: z.number().min(0).max(1).default(0.5),
    /** Tolerance: beyond baseline × (1 ± marginRatio) ± margin. */
    marginRatio: z.number().min(0).max(100).default(0),
    margin: z.number().min(0).default(0),
    /** 'reading': each reading in the period; 'period': the period's mean, once it has ended. */
    compare: z.enum(['reading', 'period']).default('reading'),
    /** reading mode: time beyond the tolerance within the period before raising. */
    forS: Duration.default(0),
    /** A reading stands for at most this long. */
    maxGapS: PositiveDuration.default(3600),
    /** The value is power in kW, so the excess is energy in kWh: the alert carries the waste and its cost at the tariff. */
    priced: z.boolean().default(false),
    /** A period joins the baseline only when readings cover this share of it. */
    minCoverage: z.number().min(0).max(1).default(0.5),
  })
  .superRefine(checkEscalation)
  .superRefine((r, ctx) => {
    if (r.minPeriods > r.periods) ctx.addIssue({ code: 'custom', message: 'minPeriods cannot exceed periods', path: ['minPeriods'] })
  })
export type BaselineRule = z.infer<typeof BaselineRule>

const Period = z.object({
  key: z.number().int(),
  /** Baseline for this period, from the periods before it (null until there are enough). */
  base: z.number().nullable(),
  lastT: z.number().nullable(),
  lastV: z.number().nullable(),
  /** ms covered by readings, Σ value × ms, ms beyond tolerance, Σ |value − baseline| × ms beyond it. */
  covered: z.number(),
  sum: z.number(),
  over: z.number(),
  excess: z.number(),
})
type Period = z.infer<typeof Period>

export const BaselineState = z.object({
  now: z.number().nullable(),
  cur: Period.nullable(),
  /** Means of past periods [day, mean], oldest first: at most periods (× 7 by weekday). */
  past: z.array(z.tuple([z.number().int(), z.number()])).max(420),
  active: z.boolean(),
})
export type BaselineState = z.infer<typeof BaselineState>

export const initialBaselineState = (): BaselineState => ({ now: null, cur: null, past: [], active: false })

const HOUR_MS = 3_600_000
const periods = new Map<string, DailyPeriod>()
function periodOf(rule: BaselineRule): DailyPeriod {
  const k = `${rule.from}-${rule.to}`
  let p = periods.get(k)
  if (!p) {
    p = new DailyPeriod(rule.from, rule.to)
    periods.set(k, p)
  }
  return p
}

function baselineFor(rule: BaselineRule, past: BaselineState['past'], key: number): number | null {
  const wd = weekdayOf(key)
  const pool = (rule.sameWeekday ? past.filter(([k]) => weekdayOf(k) === wd) : past).slice(-rule.periods)
  return pool.length >= rule.minPeriods
    ? quantile(
        pool.map(([, v]) => v),
        rule.quantile,
      )
    : null
}

const limitOf = (rule: BaselineRule, base: number) =>
  rule.direction === 'above' ? base * (1 + rule.marginRatio) + rule.margin : base * (1 - rule.marginRatio) - rule.margin
const beyond = (rule: BaselineRule, v: number, limit: number) => (rule.direction === 'above' ? v > limit : v < limit)

/** The previous reading holds for `ms`: add that to the period's sums. */
function hold(rule: BaselineRule, p: Period, ms: number): Period {
  if (p.lastV === null || ms <= 0) return p
  const v = p.lastV
  const out = p.base !== null && beyond(rule, v, limitOf(rule, p.base))
  return {
    ...p,
    covered: p.covered + ms,
    sum: p.sum + v * ms,
    over: p.over + (out ? ms : 0),
    excess: p.excess + (out && p.base !== null ? Math.abs(v - p.base) * ms : 0),
  }
}

const detailOf = (p: Period) => ({
  baseline: p.base,
  overS: p.over / 1000,
  /** In value-hours: kWh when the value is kW demand. */
  excess: p.excess / HOUR_MS,
  mean: p.covered > 0 ? p.sum / p.covered : null,
})

/**
 * A period ends at the first input after it (reading or clock tick), which is when its last
 * reading's share is known. Only one transition comes out of a step: when ending a period
 * raises or clears, a reading that starts the next one is counted but first judged next time.
 * value: reading mode, the reading; period mode, the period's mean.
 */
export function stepBaseline(rule: BaselineRule, state: BaselineState, input: RuleStepInput): RuleStepResult<BaselineState> {
  const { t, value } = input
  if (!usableTime(t) || (state.now !== null && t <= state.now)) return unchanged(state)
  const period = periodOf(rule)
  const clock = localClock(t, rule.timeZone)
  const key = period.keyOf(clock)
  let { cur, past, active } = state
  let result: Omit<RuleStepResult<BaselineState>, 'state'> = { transition: null }
  if (cur && cur.key !== key) {
    const lastClock = cur.lastT === null ? null : localClock(cur.lastT, rule.timeZone)
    const tail = cur.lastT === null || !lastClock ? 0 : Math.min(t - cur.lastT, rule.maxGapS * 1000, period.minutesLeft(lastClock) * 60_000)
    const ended = hold(rule, cur, tail)
    const mean = ended.covered > 0 ? ended.sum / ended.covered : null
    const enough = mean !== null && ended.covered >= rule.minCoverage * period.minutes * 60_000
    if (enough) past = [...past, [ended.key, mean] as [number, number]].slice(-(rule.sameWeekday ? rule.periods * 7 : rule.periods))
    const detail = detailOf(ended)
    if (rule.compare === 'reading' && active) {
      active = false
      result = { transition: 'cleared', detail }
    } else if (rule.compare === 'period' && enough && ended.base !== null) {
      const out = beyond(rule, mean, limitOf(rule, ended.base))
      if (out !== active) {
        active = out
        result = { transition: out ? 'raised' : 'cleared', value: mean, detail }
      }
    }
    cur = null
  }
  if (key !== null && usable(value)) {
    const open: Period = cur ?? {
      key,
      base: baselineFor(rule, past, key),
      lastT: null,
      lastV: null,
      covered: 0,
      sum: 0,
      over: 0,
      excess: 0,
    }
    const held = hold(rule, open, open.lastT === null ? 0 : Math.min(t - open.lastT, rule.maxGapS * 1000))
    cur = { ...held, lastT: t, lastV: value }
    const limit = cur.base === null ? null : limitOf(rule, cur.base)
    if (result.transition === null && rule.compare === 'reading' && limit !== null) {
      result = { transition: null, value, detail: detailOf(cur) }
      if (!active && beyond(rule, value, limit) && cur.over >= rule.forS * 1000) {
        active = true
        result = { ...result, transition: 'raised' }
      }
    }
  }
  return { state: { now: t, cur, past, active }, ...result }
}
