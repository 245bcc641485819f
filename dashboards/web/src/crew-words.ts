import type { CrewBin } from '#devices'
import { dayKeyOf, hhmm, londonParts } from './london-time.ts'

/** The crew works to the council's clock whatever the phone is set to (London, by london-time.ts). */

const WEEK_MS = 6 * 86_400_000

/** Whether a time falls on today's date in London. */
export const londonToday = (iso: string, now = Date.now()) => dayKeyOf(Date.parse(iso)) === dayKeyOf(now)

/** "14:30" today, "Tue 14:30" within the week, "Tue 9 Jun 14:30" further off (all London time). */
export function when(iso: string, now = Date.now()): string {
  const t = Date.parse(iso)
  const p = londonParts(t)
  if (dayKeyOf(t) === dayKeyOf(now)) return hhmm(p)
  return Math.abs(t - now) < WEEK_MS ? `${p.weekday} ${hhmm(p)}` : `${p.weekday} ${p.day} ${p.monthName} ${hhmm(p)}`
}

/** Fill in four bands; each has its own colour, size and word, so colour is never the only cue. */
interface FillBand {
  id: 'unknown' | 'low' | 'filling' | 'nearly-full' | 'full'
  word: string
  colour: string
  radius: number
}

const BANDS: readonly FillBand[] = [
  { id: 'full', word: 'Full', colour: '#b00020', radius: 13 },
  { id: 'nearly-full', word: 'Nearly full', colour: '#c44900', radius: 11 },
  { id: 'filling', word: 'Filling', colour: '#8a6d00', radius: 9 },
  { id: 'low', word: 'Under half full', colour: '#1b7f3b', radius: 7 },
]
const FROM = { full: 0.95, 'nearly-full': 0.8, filling: 0.5, low: 0 } as const
const UNKNOWN: FillBand = { id: 'unknown', word: 'No reading yet', colour: '#555', radius: 7 }

export function bandOf(fill: number | null): FillBand {
  if (fill === null) return UNKNOWN
  return BANDS.find((b) => fill >= FROM[b.id as keyof typeof FROM]) ?? UNKNOWN
}

const percent = (fill: number) => `${Math.round(fill * 100)}%`

export const fillText = (b: Pick<CrewBin, 'fill'>) => (b.fill === null ? 'No reading yet' : `${percent(b.fill)} full`)

/** When it will be full, against its next collection, in words. */
export function forecastText(b: CrewBin, now = Date.now()): string {
  const next = b.nextCollection === null ? null : when(b.nextCollection, now)
  if (b.fullAt !== null && Date.parse(b.fullAt) <= now) return 'Full now'
  if (b.fullBeforeCollection === true && b.fullAt !== null) return `Full by ${when(b.fullAt, now)}, before its collection (${next})`
  if (b.fullBeforeCollection === false) return `Full: not before next collection (${next})`
  if (b.fullAt !== null) return `Full by ${when(b.fullAt, now)}; no collection scheduled`
  return next === null ? 'No forecast yet; no collection scheduled' : `No forecast yet; next collection ${next}`
}

/** Fire or knocked over: the bin needs someone now, not at its collection. */
export const isUrgent = (b: Pick<CrewBin, 'alerts'>) => b.alerts.some((a) => a.ruleId === 'bin-fire' || a.ruleId === 'bin-knocked-over')

/** A collection counts once within an hour (the server answers 409 to a second mark). */
const RECENT_MS = 3_600_000
export const collectedRecently = (b: Pick<CrewBin, 'collectedAt'>, now = Date.now()) =>
  b.collectedAt !== null && now - Date.parse(b.collectedAt) < RECENT_MS

/** More bins than this make the map an overview: drawn on a canvas, with Leaflet loaded on a first touch. */
export const MAP_OVERVIEW_FROM = 300

/**
 * How a bin's circle looks, in Leaflet's option names (the overview draws the same): a fuller bin is
 * bigger, a dashed edge will overflow before its collection, a thick black edge is on fire or knocked
 * over. Colour is never the only cue.
 */
export function markerStyle(b: CrewBin) {
  const band = bandOf(b.fill)
  const urgent = isUrgent(b)
  const overflow = !urgent && b.fullBeforeCollection === true
  return {
    radius: band.radius,
    fillColor: band.colour,
    fillOpacity: b.fill === null ? 0.15 : 0.85,
    color: urgent ? '#000' : '#1b1b1b',
    weight: urgent ? 5 : overflow ? 3 : 1.5,
    dashArray: overflow ? '5 4' : '',
  }
}

/** A bin with a position, which the map can show. */
export type Placed = CrewBin & { latitude: number; longitude: number }
export const placed = (b: CrewBin): b is Placed => b.latitude !== null && b.longitude !== null

/** Where each bin is in the list, by id: a plain loop, as 2,000 little [id, i] arrays cost a slow phone tens of milliseconds. */
export function positions(bins: readonly { id: string }[]): Map<string, number> {
  const m = new Map<string, number>()
  for (let i = 0; i < bins.length; i++) m.set(bins[i]!.id, i)
  return m
}
