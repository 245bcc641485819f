import type { RoomReadings } from '#devices'
import { between, type Rng, round } from '../rng.ts'
import { clock, DAY, type DeviceModel, HOUR, makeSchedule } from './model.ts'

export type RoomKind = 'bedroom' | 'bathroom' | 'kitchen' | 'living-room'
const KINDS: RoomKind[] = ['bedroom', 'bathroom', 'kitchen', 'living-room']

export interface RoomOptions {
  /** Showers happen in bathrooms, cooking in kitchens, and people sleep in bedrooms. */
  room?: RoomKind
  /**
   * A "risk home" (domain.md §5.3): cold and humid, the bedroom at 72–80 % RH overnight at 14–16 °C.
   * A healthy home stays 40–60 % at 18–21 °C. Default: about one home in twenty (§5.3 prevalence).
   */
  risk?: boolean
  /** Hours of the day (London time; UTC in winter) someone starts a shower; a bathroom's default is two in the morning and one at night. */
  showers?: number[]
  /** Hours of the day cooking starts; a kitchen's default is the evening meal, and lunch at weekends. */
  cooking?: number[]
  batteryStart?: number
  intervalMs?: number
}

interface Spike {
  start: number
  /** End of the shower or the cooking: the humidity peaks here and decays after. */
  end: number
  peak: number
  /** Decay time constant: an extractor fan or an open window clears a healthy bathroom within the hour. */
  tauMs: number
}

const MIN = 60_000

/**
 * A room sensor (temperature and relative humidity every 15 min; devices/catalog/room.ts).
 * Shapes from domain.md §5.3 "Simulator shapes": bathroom and kitchen spikes to 85–95 % after
 * showers and cooking that decay within the hour in a healthy home (more slowly in a cold,
 * poorly ventilated one), and the overnight bedroom humidity of a risk home.
 */
export function roomModel(rng: Rng, start: number, o: RoomOptions = {}): DeviceModel {
  const intervalMs = o.intervalMs ?? 900_000
  const kind = o.room ?? KINDS[Math.floor(rng() * KINDS.length)]!
  const risk = o.risk ?? rng() < 0.05
  const showers = o.showers ?? (kind === 'bathroom' ? [7, 7.4, 21.5] : [])
  const cooking = o.cooking ?? (kind === 'kitchen' ? [18] : [])
  const batteryStart = o.batteryStart ?? between(rng, 70, 100)
  const due = makeSchedule(intervalMs, start + between(rng, 0, intervalMs))
  let spikes: Spike[] = []
  let day = Number.NaN
  // Each day is a little damper or drier than the last, and a little warmer or colder.
  let dayRh = 0
  let dayC = 0

  const planDay = (d: number) => {
    const midnight = d * DAY
    const weekend = [0, 6].includes(new Date(midnight).getUTCDay())
    // People get up later at weekends, and cook lunch as well.
    const late = weekend ? 1.5 : 0
    for (const h of showers) {
      const s = midnight + (h + late) * HOUR + between(rng, -10, 10) * MIN
      const end = s + between(rng, 6, 12) * MIN
      spikes.push({ start: s, end, peak: between(rng, 90, 95), tauMs: (risk ? between(rng, 25, 35) : between(rng, 9, 13)) * MIN })
    }
    for (const h of weekend && cooking.length > 0 ? [12.5, ...cooking] : cooking) {
      const s = midnight + h * HOUR + between(rng, -15, 15) * MIN
      const end = s + between(rng, 20, 45) * MIN
      spikes.push({ start: s, end, peak: between(rng, 82, 88), tauMs: (risk ? between(rng, 25, 35) : between(rng, 10, 15)) * MIN })
    }
    dayRh = between(rng, -2, 2)
    dayC = between(rng, -0.5, 0.5)
  }

  /** Humidity and temperature the room settles at without showers or cooking. */
  const settled = (hour: number) => {
    // Overnight a bedroom fills with the sleepers' moisture; in a cold home it has nowhere to go.
    const asleep = kind === 'bedroom' && (hour >= 23 || hour < 7)
    const dusk = kind === 'bedroom' && hour >= 22 && hour < 23 ? hour - 22 : 0
    const dawn = kind === 'bedroom' && hour >= 7 && hour < 8 ? 8 - hour : 0
    const night = asleep ? 1 : Math.max(dusk, dawn)
    if (risk) return { rh: 64 + dayRh + night * 12, c: 16.5 + dayC - night * 1.5, asleep }
    return { rh: 48 + dayRh + night * 6, c: 20.2 + dayC - night * 1.2, asleep }
  }

  return {
    intervalMs,
    tick(t) {
      const d = Math.floor(t / DAY)
      if (d !== day) {
        // Yesterday's late shower may still be drying out.
        spikes = spikes.filter((s) => s.end + 4 * s.tauMs > t)
        for (let k = Number.isNaN(day) ? d - 1 : day + 1; k <= d; k++) planDay(k)
        day = d
      }
      if (!due(t)) return null
      const { hour } = clock(t)
      const base = settled(hour)
      let rh = base.rh
      for (const s of spikes) {
        if (t < s.start) continue
        const rise = t < s.end ? (t - s.start) / (s.end - s.start) : Math.exp(-(t - s.end) / s.tauMs)
        rh = Math.max(rh, base.rh + (s.peak - base.rh) * rise)
      }
      const humidity = Math.min(100, Math.max(0, rh + between(rng, -1, 1)))
      const readings: RoomReadings = {
        temperature: round(base.c + between(rng, -0.2, 0.2), 1),
        // §5.3: a risk bedroom is 72–80 % overnight; under 80, where the mould rule starts counting.
        humidity: round(risk && base.asleep ? Math.min(79.9, Math.max(72, humidity)) : humidity, 1),
        batteryPct: round(Math.max(0, batteryStart - ((t - start) / DAY) * 0.01), 1),
      }
      return { readings }
    },
  }
}
