import { ENGLAND_AND_WALES, type HolidayCalendar } from '../calendar/bank-holidays.ts'
import { DailyPeriod, localClock } from '../calendar/local-time.ts'
import { isWorkingDay } from '../calendar/working-days.ts'
import type { BaselineRule } from '../rules/baseline.ts'
import { quantile } from '../rules/robust.ts'
import { londonMinute, type Series, SLOT_MS } from './half-hours.ts'
import { OUT_OF_HOURS_RULE } from './rules.ts'

/**
 * A council building's opening hours: 07:00–19:00 London on working days (Monday to Friday, not a
 * bank holiday in England and Wales). Everything else is out of hours. The simulated buildings
 * warm up from 07:00 and are off by 19:00 (simulators/models/meter.ts).
 */
export const OPEN_FROM_MINUTE = 7 * 60
export const OPEN_TO_MINUTE = 19 * 60
export const OPEN_HOURS_TEXT = '07:00–19:00 London time, Monday to Friday except bank holidays'

const HOURS_PER_SLOT = SLOT_MS / 3_600_000

/** Whether the half-hour starting at `t` is within opening hours. */
export function inOpeningHours(t: number, holidays: HolidayCalendar = ENGLAND_AND_WALES): boolean {
  const m = londonMinute(t)
  return isWorkingDay(t, holidays) && m >= OPEN_FROM_MINUTE && m < OPEN_TO_MINUTE
}

export interface BaseLoad {
  /** kW; null until enough nights are known. */
  kw: number | null
  /** Nights the figure comes from. */
  nights: number
  needed: number
}

/**
 * The building's base load as the out-of-hours alert sees it: each night's mean demand in the
 * rule's quiet hours (02:00–04:00 London), from nights that readings cover at least half of, before
 * `before`; the rule's quantile (lower decile) of the last `periods` (28) such nights, once there
 * are `minPeriods` (7).
 */
export function baseLoad(series: Series, before: number, rule: BaselineRule = OUT_OF_HOURS_RULE): BaseLoad {
  const period = new DailyPeriod(rule.from, rule.to)
  const nights = new Map<number, { kwh: number; slots: number }>()
  series.kwh.forEach((kwh, i) => {
    const t = series.from + i * SLOT_MS
    if (kwh === null || t >= before) return
    const key = period.keyOf(localClock(t, 'Europe/London'))
    if (key === null) return
    const n = nights.get(key) ?? { kwh: 0, slots: 0 }
    nights.set(key, { kwh: n.kwh + kwh, slots: n.slots + 1 })
  })
  const means = [...nights.entries()]
    .filter(([, n]) => n.slots * 30 >= rule.minCoverage * period.minutes)
    .sort(([a], [b]) => a - b)
    .map(([, n]) => n.kwh / (n.slots * HOURS_PER_SLOT))
    .slice(-rule.periods)
  return {
    kw: means.length >= rule.minPeriods ? quantile(means, rule.quantile) : null,
    nights: means.length,
    needed: rule.minPeriods,
  }
}

export interface OutOfHours {
  /** All energy used out of hours in the window, kWh. */
  usedKwh: number
  /** Of that, the energy above the base load in half-hours beyond the rule's tolerance; null without a base load. */
  wasteKwh: number | null
}

/**
 * Out-of-hours waste over [from, to): in each out-of-hours half-hour whose mean demand is beyond
 * the out-of-hours rule's tolerance (base load × 1.2 + 1 kW), the energy above the base load.
 * This is the rule's own "excess" (devices/rules/baseline.ts), counted over every out-of-hours
 * half-hour rather than only 02:00–04:00; demand within the tolerance is noise, not waste.
 */
export function outOfHoursWaste(
  series: Series,
  from: number,
  to: number,
  baseKw: number | null,
  rule: BaselineRule = OUT_OF_HOURS_RULE,
  holidays: HolidayCalendar = ENGLAND_AND_WALES,
): OutOfHours {
  let used = 0
  let waste = 0
  const limit = baseKw === null ? null : baseKw * (1 + rule.marginRatio) + rule.margin
  series.kwh.forEach((kwh, i) => {
    const t = series.from + i * SLOT_MS
    if (kwh === null || t < from || t >= to || inOpeningHours(t, holidays)) return
    used += kwh
    const kw = kwh / HOURS_PER_SLOT
    if (limit !== null && baseKw !== null && kw > limit) waste += (kw - baseKw) * HOURS_PER_SLOT
  })
  return { usedKwh: used, wasteKwh: baseKw === null ? null : waste }
}
