import { startOfLondonDay } from '../calendar/london-time.ts'
import type { BaselineRule } from '../rules/baseline.ts'
import { median, quantile } from '../rules/robust.ts'
import { halfHoursOfDay, kwhAt, londonHhMm, londonMinute, type Series, SLOT_MS } from './half-hours.ts'
import { ABOVE_BASELINE_RULE } from './rules.ts'

/** The band drawn around the usual: from the 10th to the 90th percentile of past same weekdays. */
export const BAND_LOW = 0.1
export const BAND_HIGH = 0.9

export interface BandSlot {
  start: number
  /** London clock, HH:MM (01:00 and 01:30 come twice on the day the clocks go back). */
  time: string
  kwh: number | null
  median: number | null
  low: number | null
  high: number | null
}

export interface DayProfile {
  slots: BandSlot[]
  /** Past same weekdays the baseline comes from, and how many it needs. */
  weeks: number
  needed: number
}

/** A past day counts when readings cover at least the rule's share of its half-hours. */
function covered(series: Series, day: number, rule: BaselineRule): boolean {
  const slots = halfHoursOfDay(day)
  return slots.filter((t) => kwhAt(series, t) !== null).length >= rule.minCoverage * slots.length
}

/** The same weekday in each of the last `periods` weeks (8) before `day` that readings cover, newest first. */
export function pastSameWeekdays(series: Series, day: number, rule: BaselineRule = ABOVE_BASELINE_RULE): number[] {
  const out: number[] = []
  for (let k = 1; k <= rule.periods; k++) if (covered(series, day - 7 * k, rule)) out.push(day - 7 * k)
  return out
}

/** A day's half-hours by London clock time; the first of a repeated time stands for it. */
function byClock(series: Series, day: number): Map<number, number | null> {
  const m = new Map<number, number | null>()
  for (const t of halfHoursOfDay(day)) {
    const minute = londonMinute(t)
    if (!m.has(minute)) m.set(minute, kwhAt(series, t))
  }
  return m
}

/**
 * A London day's half-hourly kWh against the same weekday over the previous 4 to 8 weeks
 * (energy-above-baseline's baseline, §5.4 "Baseline method"), matched by London clock time so
 * the days the clocks change line up: each half-hour's median and its 10th–90th percentile band,
 * when at least `minPeriods` (4) past days have a figure for it.
 */
export function dayProfile(series: Series, day: number, rule: BaselineRule = ABOVE_BASELINE_RULE): DayProfile {
  const past = pastSameWeekdays(series, day, rule).map((d) => byClock(series, d))
  const slots = halfHoursOfDay(day).map((t): BandSlot => {
    const minute = londonMinute(t)
    const values = past.map((p) => p.get(minute)).filter((v): v is number => typeof v === 'number')
    const enough = values.length >= rule.minPeriods
    return {
      start: t,
      time: londonHhMm(t),
      kwh: kwhAt(series, t),
      median: enough ? median(values) : null,
      low: enough ? quantile(values, BAND_LOW) : null,
      high: enough ? quantile(values, BAND_HIGH) : null,
    }
  })
  return { slots, weeks: past.length, needed: rule.minPeriods }
}

export interface SoFar {
  /** The end of the last whole half-hour counted. */
  at: number
  kwh: number
  /** The median of the past same weekdays' use up to the same London clock time; null without enough of them. */
  usualKwh: number | null
}

/** A day's use up to `now` (whole half-hours) against the same weekday's usual use by the same time of day. */
export function soFar(series: Series, day: number, now: number, rule: BaselineRule = ABOVE_BASELINE_RULE): SoFar {
  const start = startOfLondonDay(day)
  const end = startOfLondonDay(day + 1)
  const at = Math.max(start, Math.min(end, Math.floor(now / SLOT_MS) * SLOT_MS))
  const sumTo = (d: number, cut: number) =>
    halfHoursOfDay(d)
      .filter((t) => t + SLOT_MS <= cut)
      .reduce((s, t) => s + (kwhAt(series, t) ?? 0), 0)
  const kwh = sumTo(day, at)
  // The same London clock time on a past day (an hour apart across a clock change, so by clock, not by elapsed time).
  const clockCut = at >= end ? Number.POSITIVE_INFINITY : londonMinute(at)
  const totals = pastSameWeekdays(series, day, rule).map((d) =>
    halfHoursOfDay(d)
      .filter((t) => londonMinute(t) + 30 <= clockCut)
      .reduce((s, t) => s + (kwhAt(series, t) ?? 0), 0),
  )
  return { at, kwh, usualKwh: totals.length >= rule.minPeriods ? median(totals) : null }
}
