import type { WeatherReadings } from '#devices'
import { between, type Rng, round } from '../rng.ts'
import { clock, type DeviceModel, HOUR, makeSchedule } from './model.ts'

/** Freezing nights and days that stay under 5 °C from `from` to `to` (simulated times), turning over 6 h either side. */
export interface ColdSnap {
  from: number
  to: number
  /** Coldest, before dawn (default −4 °C). */
  lowC?: number
  /** Warmest, mid-afternoon (default 2 °C): under 5 °C, so a boiler with no heat is urgent all day (domain.md §5.2). */
  highC?: number
}

export interface ClimateOptions {
  /** Mean outside temperature of an ordinary day; London in November is about 8 °C. */
  meanC?: number
  /** Half the day-night range. */
  swingC?: number
  coldSnap?: ColdSnap
}

/** The weather takes this long to turn at either end of a cold snap. */
const SNAP_RAMP_MS = 6 * HOUR

/**
 * Outside temperature and humidity over time: coldest before dawn, warmest mid-afternoon, each
 * day a little milder or rawer than the last. Shared by the weather sensor and the boilers'
 * OpenTherm outside sensors, so a cold snap is the same cold snap to both.
 */
export function createClimate(rng: Rng, o: ClimateOptions = {}) {
  const mean = o.meanC ?? 8
  const swing = o.swingC ?? 3
  const snap = o.coldSnap
  let day = Number.NaN
  let dayOffset = 0
  const daily = (t: number) => Math.cos((2 * Math.PI * (clock(t).hour - 14.5)) / 24)
  return (t: number) => {
    const d = Math.floor(t / (24 * HOUR))
    if (d !== day) {
      day = d
      dayOffset = between(rng, -2, 2)
    }
    let c = mean + dayOffset + swing * daily(t)
    if (snap && t > snap.from - SNAP_RAMP_MS && t < snap.to + SNAP_RAMP_MS) {
      const lo = snap.lowC ?? -4
      const hi = snap.highC ?? 2
      const cold = (lo + hi) / 2 + ((hi - lo) / 2) * daily(t)
      const w = Math.min(1, (t - snap.from + SNAP_RAMP_MS) / SNAP_RAMP_MS, (snap.to + SNAP_RAMP_MS - t) / SNAP_RAMP_MS)
      c = w * cold + (1 - w) * c
    }
    const tempC = c + between(rng, -0.3, 0.3)
    // Relative humidity rises as the air cools: damp nights, drier afternoons.
    const humidity = Math.min(100, Math.max(40, 84 - 8 * daily(t) + between(rng, -3, 3)))
    return { tempC, humidity }
  }
}

export interface WeatherOptions extends ClimateOptions {
  intervalMs?: number
}

/** A site's weather sensor: outside temperature and humidity. */
export function weatherModel(rng: Rng, start: number, o: WeatherOptions = {}): DeviceModel {
  // devices/catalog/weather.ts: every 10 minutes.
  const intervalMs = o.intervalMs ?? 600_000
  const climate = createClimate(rng, o)
  const due = makeSchedule(intervalMs, start + between(rng, 0, intervalMs))
  return {
    intervalMs,
    tick(t) {
      if (!due(t)) return null
      const { tempC, humidity } = climate(t)
      const readings: WeatherReadings = { outsideTemp: round(tempC, 1), humidity: round(humidity, 0) }
      return { readings }
    },
  }
}
