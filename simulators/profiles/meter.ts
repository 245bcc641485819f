import type { MeterReadings } from '#devices'
import { between, type Rng, round } from '../rng.ts'

/**
 * Office or school: weekday 08:00-18:00 plateau, night baseload 10-25 % of peak,
 * weekends near baseload (domain.md §5.4 "Simulator shapes").
 */
export function meterProfile(rng: Rng, start: number) {
  const peakW = between(rng, 15_000, 60_000)
  const baseShare = between(rng, 0.1, 0.25)
  let energyWh = Math.floor(between(rng, 1e6, 5e7))
  let last = start
  return (t: number): MeterReadings => {
    const d = new Date(t)
    const weekday = d.getUTCDay() >= 1 && d.getUTCDay() <= 5
    const hour = d.getUTCHours()
    const open = weekday && hour >= 8 && hour < 18
    const powerW = (open ? peakW : peakW * baseShare) * between(rng, 0.9, 1.1)
    energyWh += (powerW * Math.max(0, t - last)) / 3_600_000
    last = t
    return { energyWh: round(energyWh, 0), powerW: round(powerW, 0) }
  }
}
