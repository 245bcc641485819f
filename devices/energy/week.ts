import { weekdayOf } from '../calendar/local-time.ts'
import { startOfLondonDay } from '../calendar/london-time.ts'
import type { BaselineRule } from '../rules/baseline.ts'
import { median } from '../rules/robust.ts'
import { type Series, SLOT_MS } from './half-hours.ts'
import { baseLoad, outOfHoursWaste } from './out-of-hours.ts'
import { ABOVE_BASELINE_RULE, OUT_OF_HOURS_RULE } from './rules.ts'

/** The London day number of the Monday of the week containing `day`. */
export const mondayOf = (day: number) => day - ((weekdayOf(day) + 6) % 7)

export interface WeekFigures {
  from: number
  /** Now, or the end of the week when it is over. */
  to: number
  usedKwh: number
  /** Out-of-hours use and waste (see outOfHoursWaste); waste null without a base load. */
  outOfHoursKwh: number
  wasteKwh: number | null
  wasteGbp: number | null
  baseLoadKw: number | null
  nights: number
  nightsNeeded: number
  /** The median use over the same span (Monday 00:00 to the same time) of the past 4–8 weeks. */
  usualKwh: number | null
  weeks: number
  weeksNeeded: number
  /** The out-of-hours rule's tolerance: demand beyond base × (1 + ratio) + kW is waste. */
  toleranceRatio: number
  toleranceKw: number
}

/** The catalogue's rules (devices/energy/rules.ts), or them with a building's overrides. */
export interface EnergyRules {
  outOfHours: BaselineRule
  aboveBaseline: BaselineRule
}

const sum = (series: Series, from: number, to: number) => {
  let kwh = 0
  let known = 0
  let slots = 0
  series.kwh.forEach((v, i) => {
    const t = series.from + i * SLOT_MS
    if (t < from || t >= to) return
    slots++
    if (v !== null) {
      known++
      kwh += v
    }
  })
  return { kwh, coverage: slots === 0 ? 0 : known / slots }
}

const round1 = (x: number) => Math.round(x * 10) / 10

/**
 * A building's week so far, from Monday 00:00 London to `now` (or the week's end): energy used,
 * out of hours and wasted (kWh and £ at the tariff, rounded as the alerts round them), and the
 * week against the same span of the previous weeks.
 */
export function weekFigures(
  series: Series,
  monday: number,
  now: number,
  tariffGbpPerKwh: number,
  rules: EnergyRules = { outOfHours: OUT_OF_HOURS_RULE, aboveBaseline: ABOVE_BASELINE_RULE },
): WeekFigures {
  const from = startOfLondonDay(monday)
  const to = Math.max(from, Math.min(now, startOfLondonDay(monday + 7)))
  const base = baseLoad(series, from, rules.outOfHours)
  const ooh = outOfHoursWaste(series, from, to, base.kw, rules.outOfHours)
  const wasteKwh = ooh.wasteKwh === null ? null : round1(ooh.wasteKwh)
  const rule = rules.aboveBaseline
  const past: number[] = []
  for (let k = 1; k <= rule.periods; k++) {
    const start = startOfLondonDay(monday - 7 * k)
    const s = sum(series, start, start + (to - from))
    if (to > from && s.coverage >= rule.minCoverage) past.push(s.kwh)
  }
  return {
    from,
    to,
    usedKwh: round1(sum(series, from, to).kwh),
    outOfHoursKwh: round1(ooh.usedKwh),
    wasteKwh,
    wasteGbp: wasteKwh === null ? null : Math.round(wasteKwh * tariffGbpPerKwh * 100) / 100,
    baseLoadKw: base.kw === null ? null : Math.round(base.kw * 100) / 100,
    nights: base.nights,
    nightsNeeded: base.needed,
    usualKwh: past.length >= rule.minPeriods ? round1(median(past)) : null,
    weeks: past.length,
    weeksNeeded: rule.minPeriods,
    toleranceRatio: rules.outOfHours.marginRatio,
    toleranceKw: rules.outOfHours.margin,
  }
}
