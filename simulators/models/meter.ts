import type { MeterReadings } from '#devices'
import { between, type Rng, round } from '../rng.ts'
import { clock, type DeviceModel, HOUR, makeSchedule } from './model.ts'

export interface MeterOptions {
  peakW?: number
  /** Night baseload as a share of peak: 10-25 % (domain.md §5.4). */
  baseShare?: number
  /** Nights (start times) with the lights left on: baseload doubled for the night (§5.4). */
  lightsLeftOn?: number[]
  /** Sustained extra demand from `at` for `ms`, in watts. */
  surge?: { at: number; ms: number; extraW: number }
  /** No reports in this window; the first after it carries the gap's energy as a catch-up spike (§5.4). */
  missed?: { from: number; to: number }
  /** The register wraps to zero here (a 6-digit kWh register rolls at 1,000,000 kWh). */
  rolloverWh?: number
  startWh?: number
  intervalMs?: number
}

export function meterModel(rng: Rng, start: number, o: MeterOptions = {}): DeviceModel {
  // domain.md §5.4: half-hourly settlement data.
  const intervalMs = o.intervalMs ?? 30 * 60_000
  const peakW = o.peakW ?? between(rng, 15_000, 60_000)
  const baseShare = o.baseShare ?? between(rng, 0.1, 0.25)
  const rollover = o.rolloverWh ?? 1e9
  let energyWh = o.startWh ?? Math.floor(between(rng, 1e6, 5e7))
  let last = start
  let energyAtReport = energyWh
  const due = makeSchedule(intervalMs, start + between(rng, 0, intervalMs))

  const demand = (t: number) => {
    const { hour, weekday } = clock(t)
    const open = weekday >= 1 && weekday <= 5 && hour >= 8 && hour < 18
    const lightsOn = o.lightsLeftOn?.some((n) => t >= n && t < n + 12 * HOUR) ?? false
    const surge = o.surge && t >= o.surge.at && t < o.surge.at + o.surge.ms ? o.surge.extraW : 0
    return (open ? peakW : peakW * baseShare * (lightsOn ? 2 : 1)) * between(rng, 0.92, 1.08) + surge
  }

  return {
    intervalMs,
    tick(t) {
      energyWh += (demand(t) * Math.max(0, t - last)) / HOUR
      last = t
      if (!due(t)) return null
      if (o.missed && t >= o.missed.from && t < o.missed.to) return null
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
