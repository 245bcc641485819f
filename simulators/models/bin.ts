import type { BinReadings } from '#devices'
import { between, type Rng, round } from '../rng.ts'
import { clock, DAY, type DeviceModel, type Emission, HOUR, makeSchedule } from './model.ts'

export interface BinOptions {
  /** Fill per day on a weekday, parts per one. */
  ratePerDay?: number
  /** Commercial bins fill in business hours; residential ones faster at weekends (domain.md §5.1 "Fill dynamics"). */
  commercial?: boolean
  /** Weekdays (0 = Sunday) with a collection at 07:00. */
  collectionDays?: number[]
  startFill?: number
  /** Share of readings that are sensor outliers (domain.md §5.1: 2-5 %). */
  outlierRate?: number
  /** Share of readings taken with the lid open: near empty for one sample (§5.1). */
  lidOpenRate?: number
  /** A fire starting at this simulated time, burning for `fireMs`. */
  fireAt?: number
  fireMs?: number
  /** Knocked over at this time and left on its side for `knockedMs`. */
  knockedAt?: number
  knockedMs?: number
  batteryStart?: number
  batteryPerDay?: number
  intervalMs?: number
}

/** Fill thresholds whose crossing makes the sensor report at once (Milesight EM400 "threshold alarm"). */
const THRESHOLDS = [0.8, 0.95]

export function binModel(rng: Rng, start: number, o: BinOptions = {}): DeviceModel {
  // domain.md §5.1: bin mode reports every 1,200 s.
  const intervalMs = o.intervalMs ?? 1_200_000
  const rate = o.ratePerDay ?? between(rng, 0.08, 0.25)
  const collectionDays = o.collectionDays ?? [Math.floor(between(rng, 1, 6))]
  const baseTemp = between(rng, 8, 14)
  const outlierRate = o.outlierRate ?? between(rng, 0.02, 0.05)
  const lidOpenRate = o.lidOpenRate ?? 0.01
  const batteryPerDay = o.batteryPerDay ?? 0.02
  let fill = o.startFill ?? between(rng, 0.05, 0.5)
  let battery = o.batteryStart ?? between(rng, 60, 100)
  let last = start
  let lastReportedFill = fill
  let collectedOnDay = -1
  const due = makeSchedule(intervalMs, start + between(rng, 0, intervalMs))

  const fillRate = (t: number) => {
    const { hour, weekday } = clock(t)
    const weekend = weekday === 0 || weekday === 6
    if (o.commercial) return weekend ? 0.3 : hour >= 8 && hour < 18 ? 2.2 : 0.2
    return weekend ? 1.4 : 1
  }

  return {
    intervalMs,
    tick(t): Emission | null {
      const dtDays = Math.max(0, t - last) / DAY
      const { hour, weekday } = clock(t)
      // Collection: the level drops sharply and the bin is moved (a tilt blip).
      const day = Math.floor(t / DAY)
      const collecting = collectionDays.includes(weekday) && hour >= 7 && collectedOnDay !== day
      if (collecting) {
        fill = between(rng, 0, 0.04)
        collectedOnDay = day
      }
      fill = Math.min(1, fill + dtDays * rate * fillRate(t))
      battery = Math.max(0, battery - dtDays * batteryPerDay)
      last = t

      const burning = o.fireAt !== undefined && t >= o.fireAt && t < o.fireAt + (o.fireMs ?? 2 * HOUR)
      const knocked = o.knockedAt !== undefined && t >= o.knockedAt && t < o.knockedAt + (o.knockedMs ?? 3 * HOUR)
      const crossed = THRESHOLDS.some((x) => lastReportedFill < x && fill >= x)
      const event = collecting || crossed || (burning && t - o.fireAt! < intervalMs / 4)
      if (!due(t) && !event) return null

      let reported = fill
      const r = rng()
      if (r < outlierRate) reported = round(between(rng, 0, 1), 3)
      else if (r < outlierRate + lidOpenRate) reported = between(rng, 0, 0.03)
      lastReportedFill = fill
      const ambient = baseTemp + 5 * Math.sin(((hour - 9) / 24) * 2 * Math.PI)
      const readings: BinReadings = {
        fillingLevel: round(reported, 3),
        temperature: round(burning ? between(rng, 70, 95) : ambient + between(rng, -0.5, 0.5), 1),
        batteryPct: round(battery, 1),
        tilted: knocked || collecting,
      }
      return { readings }
    },
  }
}
