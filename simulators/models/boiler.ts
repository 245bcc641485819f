import type { BoilerReadings } from '#devices'
import { between, type Rng, round } from '../rng.ts'
import { clock, DAY, type DeviceModel, makeSchedule } from './model.ts'
import { type ClimateOptions, createClimate } from './weather.ts'

export interface BoilerOptions {
  /** Cold system pressure; ~1.0-1.5 bar is normal (domain.md §5.2). */
  coldPressure?: number
  /** A slow leak from `leakFrom`, in bar per day (§5.2 suggestion: -0.1 bar/day). */
  leakFrom?: number
  leakBarPerDay?: number
  /** Expansion vessel lost its charge: normal cold, over 2.5 bar hot (§5.2). */
  vesselFailedFrom?: number
  /** Lockouts (e.g. Worcester EA227 no flame, 9F855 frozen condensate) lasting `ms` (default 30 min), until reset. */
  lockouts?: { at: number; code: string; ms?: number }[]
  /** Heating demanded but no heat (burner off, flow cold) from this time, e.g. a failed zone valve, until `noHeatUntil`. */
  noHeatFrom?: number
  noHeatUntil?: number
  /** Room humidity: a "risk home" stays 72-80 % overnight (§5.3). */
  damp?: boolean
  /**
   * An OpenTherm outside sensor: the boiler reports `outsideTemp` from this weather (with its
   * cold snap, if any). Without one the engine takes the site's weather sensor.
   */
  outside?: ClimateOptions
  intervalMs?: number
}

/** Below 0.5 bar the boiler locks itself out (Vokera, Potterton/Baxi E119; §5.2). */
const LOW_PRESSURE_LOCKOUT = 0.5

/** Central heating times the thermostat asks for (a common two-period programme). */
export const heatingDemanded = (hour: number) => (hour >= 6 && hour < 9) || (hour >= 17 && hour < 22)

export function boilerModel(rng: Rng, start: number, o: BoilerOptions = {}): DeviceModel {
  // domain.md §5.2 suggestion: report every 5 min.
  const intervalMs = o.intervalMs ?? 300_000
  const cold = o.coldPressure ?? between(rng, 1.1, 1.4)
  const setpoint = between(rng, 60, 72)
  const due = makeSchedule(intervalMs, start + between(rng, 0, intervalMs))
  const outside = o.outside ? createClimate(rng, o.outside) : null
  return {
    intervalMs,
    tick(t) {
      if (!due(t)) return null
      const { hour } = clock(t)
      const demand = heatingDemanded(hour)
      const leak = o.leakFrom !== undefined && t >= o.leakFrom ? ((t - o.leakFrom) / DAY) * (o.leakBarPerDay ?? 0.1) : 0
      const lockout = o.lockouts?.find((l) => t >= l.at && t < l.at + (l.ms ?? 30 * 60_000))
      const coldBase = Math.max(0.05, cold - leak)
      const lowLockout = coldBase < LOW_PRESSURE_LOCKOUT
      const noHeat = o.noHeatFrom !== undefined && t >= o.noHeatFrom && t < (o.noHeatUntil ?? Number.POSITIVE_INFINITY)
      const burnerOn = demand && !lockout && !lowLockout && !noHeat
      const flowTemp = burnerOn ? setpoint + between(rng, -2, 2) : between(rng, 16, 24)
      const returnTemp = burnerOn ? flowTemp - between(rng, 12, 20) : flowTemp - between(rng, 0, 2)
      const vessel = o.vesselFailedFrom !== undefined && t >= o.vesselFailedFrom ? 3.2 : 1
      const pressureBar = coldBase + 0.5 * vessel * Math.max(0, (flowTemp - 20) / 50)
      const night = hour < 7 || hour >= 23
      const readings: BoilerReadings = {
        flowTemp: round(flowTemp, 1),
        returnTemp: round(returnTemp, 1),
        pressureBar: round(pressureBar, 2),
        burnerOn,
        lockout: Boolean(lockout) || lowLockout,
        roomHumidity: round(o.damp && night ? between(rng, 72, 80) : between(rng, 40, 60), 0),
        // The thermostat keeps calling for heat whatever the boiler does: that is what makes "no heat" visible.
        heatingDemand: demand,
      }
      if (outside) readings.outsideTemp = round(outside(t).tempC, 1)
      if (lockout) readings.faultCode = lockout.code
      else if (lowLockout) readings.faultCode = 'E119'
      return { readings }
    },
  }
}
