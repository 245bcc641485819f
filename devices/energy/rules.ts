import { energyMeter } from '../catalog/energy-meter.ts'
import type { BaselineRule } from '../rules/baseline.ts'

function baselineRule(id: string): BaselineRule {
  const r = energyMeter.rules.find((x) => x.id === id)
  if (r?.kind !== 'baseline') throw new Error(`the energy meter catalogue has no baseline rule ${id}`)
  return r
}

/**
 * The catalogue's rules these figures follow, so the view and the alerts judge alike:
 * the base load is energy-out-of-hours' quiet-hours baseline (02:00–04:00 London, lower decile of
 * the last 28 nights, at least 7) and its tolerance; the usual day is energy-above-baseline's
 * (the same weekday over the last 8 weeks, at least 4).
 */
export const OUT_OF_HOURS_RULE = baselineRule('energy-out-of-hours')
export const ABOVE_BASELINE_RULE = baselineRule('energy-above-baseline')
