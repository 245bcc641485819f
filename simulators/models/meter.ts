import type { MeterReadings } from '#devices'
import { between, type Rng, round } from '../rng.ts'
import { clock, DAY, type DeviceModel, HOUR, makeSchedule } from './model.ts'

export interface MeterOptions {
  peakW?: number
  /** Night baseload as a share of peak: 10-25 % (domain.md §5.4). */
  baseShare?: number
  /** Nights (start times) with the lights left on: baseload doubled for 12 hours (§5.4). */
  lightsLeftOn?: number[]
  /** Sustained extra demand from `at` for `ms`, in watts. */
  surge?: { at: number; ms: number; extraW: number }
  /** No reports in these windows; the first after each carries the gap's energy, a catch-up (§5.4). */
  missed?: { from: number; to: number }[]
  /** The register counts modulo this: a 6-digit kWh register rolls over at 1,000,000 kWh (1e9 Wh). */
  rolloverWh?: number
  /** Register at the start, Wh: just under `rolloverWh` makes it roll over during a run. */
  startWh?: number
  intervalMs?: number
}

/**
 * An office or school electricity meter (§5.4 "Simulator shapes"): a weekday 08:00–18:00 plateau
 * reached over an hour either side, a baseload at night and at weekends, each day a little
 * different. The baseload varies by a few per cent from night to night, well inside the
 * out-of-hours tolerance, so only a real change (lights left on) stands out.
 */
export function meterModel(rng: Rng, start: number, o: MeterOptions = {}): DeviceModel {
  // domain.md §5.4: half-hourly settlement data.
  const intervalMs = o.intervalMs ?? 30 * 60_000
  const peakW = o.peakW ?? between(rng, 15_000, 60_000)
  const baseShare = o.baseShare ?? between(rng, 0.1, 0.25)
  const rollover = o.rolloverWh ?? 1e9
  let energyWh = o.startWh ?? Math.floor(between(rng, 1e6, 5e7))
  let last = start
  let energyAtReport = energyWh
  let day = Number.NaN
  let dayFactor = 1
  let nightFactor = 1
  const due = makeSchedule(intervalMs, start + between(rng, 0, intervalMs))

  const demand = (t: number) => {
    const d = Math.floor(t / DAY)
    if (d !== day) {
      day = d
      dayFactor = between(rng, 0.9, 1.1)
      nightFactor = between(rng, 0.96, 1.04)
    }
    const { hour, weekday } = clock(t)
    const workday = weekday >= 1 && weekday <= 5
    // Heating and lights come on from 07:00 and are off by 19:00.
    const open = workday ? Math.max(0, Math.min(1, hour - 7, 19 - hour)) : 0
    const lightsOn = o.lightsLeftOn?.some((n) => t >= n && t < n + 12 * HOUR) ?? false
    const base = peakW * baseShare * nightFactor * (lightsOn ? 2 : 1)
    const surge = o.surge && t >= o.surge.at && t < o.surge.at + o.surge.ms ? o.surge.extraW : 0
    return (open * peakW * dayFactor + (1 - open) * base) * between(rng, 0.97, 1.03) + surge
  }

  return {
    intervalMs,
    tick(t) {
      energyWh += (demand(t) * Math.max(0, t - last)) / HOUR
      last = t
      if (!due(t)) return null
      if (o.missed?.some((m) => t >= m.from && t < m.to)) return null
      // Power is the mean over the reporting period, from the register: after missed
      // reads the whole gap lands in one period, a catch-up spike.
      const consumed = energyWh - energyAtReport
      const powerW = consumed / (intervalMs / HOUR)
      energyAtReport = energyWh
      const readings: MeterReadings = { energyWh: round(energyWh % rollover, 0), powerW: round(Math.max(0, powerW), 0) }
      return { readings }
    },
  }
}
