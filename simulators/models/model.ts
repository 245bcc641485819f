/** A reading as a device would send it; `raw` replaces the JSON body (for bad devices). */
export interface Emission {
  readings?: Record<string, number | boolean | string>
  raw?: string
}

/**
 * A simulated device. `tick` is called several times per reporting interval with
 * simulated time; it answers what the device would send now, or null. Devices
 * report on their interval and, like real bin sensors, at once on an event.
 */
export interface DeviceModel {
  readonly intervalMs: number
  tick(t: number): Emission | null
}

export const HOUR = 3_600_000
export const DAY = 24 * HOUR

/** UTC hour of day and weekday (0 = Sunday); simulated time is UTC. */
export const clock = (t: number) => {
  const d = new Date(t)
  return { hour: d.getUTCHours() + d.getUTCMinutes() / 60, weekday: d.getUTCDay() }
}

/** True once per interval: when `t` has moved `intervalMs` past the last report. */
export function makeSchedule(intervalMs: number, first: number) {
  let next = first
  return (t: number) => {
    if (t < next) return false
    next = t + intervalMs
    return true
  }
}
