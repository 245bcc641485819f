import type { BoilerReadings } from '#devices'
import { between, type Rng, round } from '../rng.ts'

/**
 * Heating on 06:00-09:00 and 17:00-22:00; pressure ~1.2 bar cold rising towards
 * ~1.8 bar hot (domain.md §5.2 "Normal pressure").
 */
export function boilerProfile(rng: Rng, _start: number) {
  const coldPressure = between(rng, 1.1, 1.4)
  const setpoint = between(rng, 60, 72)
  return (t: number): BoilerReadings => {
    const hour = new Date(t).getUTCHours()
    const heating = (hour >= 6 && hour < 9) || (hour >= 17 && hour < 22)
    const flowTemp = heating ? setpoint + between(rng, -2, 2) : between(rng, 18, 24)
    const returnTemp = heating ? flowTemp - between(rng, 12, 20) : flowTemp - between(rng, 0, 2)
    const pressureBar = coldPressure + 0.6 * Math.max(0, (flowTemp - 20) / 50)
    return {
      flowTemp: round(flowTemp, 1),
      returnTemp: round(returnTemp, 1),
      pressureBar: round(pressureBar, 2),
      burnerOn: heating,
      lockout: false,
      roomHumidity: round(between(rng, 40, 60), 0),
    }
  }
}
