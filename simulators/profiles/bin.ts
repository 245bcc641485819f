import type { BinReadings } from '#devices'
import { between, type Rng, round } from '../rng.ts'

const DAY = 86_400_000

/**
 * Sawtooth fill (domain.md §5.1 "Fill dynamics"): a per-bin daily rate, faster at
 * weekends for residential bins, emptied on the bin's weekly collection day.
 */
export function binProfile(rng: Rng, start: number) {
  const ratePerDay = between(rng, 0.08, 0.2)
  const collectionDay = Math.floor(between(rng, 1, 6)) // Monday..Friday
  const baseTemp = between(rng, 8, 14)
  let fill = between(rng, 0.05, 0.6)
  let battery = between(rng, 60, 100)
  let last = start
  return (t: number): BinReadings => {
    const dt = Math.max(0, t - last) / DAY
    const day = new Date(t).getUTCDay()
    const weekend = day === 0 || day === 6
    const prevDay = new Date(last).getUTCDay()
    if (prevDay !== collectionDay && day === collectionDay) fill = between(rng, 0, 0.04)
    fill = Math.min(1, fill + dt * ratePerDay * (weekend ? 1.3 : 1))
    battery = Math.max(0, battery - dt * 0.02)
    last = t
    const hour = new Date(t).getUTCHours()
    const temperature = baseTemp + 5 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) + between(rng, -0.5, 0.5)
    return { fillingLevel: round(fill, 3), temperature: round(temperature, 1), batteryPct: round(battery, 1), tilted: false }
  }
}
