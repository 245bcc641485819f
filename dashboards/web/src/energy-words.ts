import type { EnergyWeek } from '#devices'

const one = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 1 })
const pounds = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP' })

export const kwh = (n: number) => `${one.format(n)} kWh`
export const gbp = (n: number) => pounds.format(n)

const ORDINAL: Record<string, string> = { one: 'st', two: 'nd', few: 'rd', other: 'th' }
const ordinals = new Intl.PluralRules('en-GB', { type: 'ordinal' })
const nth = (n: number) => `${n}${ORDINAL[ordinals.select(n)]}`

/** "Most waste", "2nd most waste of 5", or why there is no rank yet. */
export function rankWords(rank: number | null, total: number): string {
  if (rank === null) return 'Not ranked yet'
  return rank === 1 ? `Most waste of ${total}` : `${nth(rank)} most waste of ${total}`
}

/** The week's waste in one line: "12.3 kWh wasted out of hours, £3.08". */
export function wasteWords(w: EnergyWeek): string {
  if (w.wasteKwh === null || w.wasteGbp === null) return 'Not known yet'
  return `${kwh(w.wasteKwh)}, ${gbp(w.wasteGbp)}`
}

/** "8 % above", "3 % below", "about the same as" the usual (within half a per cent). */
export function againstUsual(changePct: number | null): string | null {
  if (changePct === null) return null
  if (changePct === 0) return 'about the same as'
  return `${Math.abs(changePct)} % ${changePct > 0 ? 'above' : 'below'}`
}

/** The week's use against the usual week so far, in words. */
export function weekAgainstUsual(w: EnergyWeek): string {
  if (w.usualKwh === null) return 'No usual week yet'
  if (w.usualKwh === 0) return `${kwh(w.usedKwh)}; usually none`
  const words = againstUsual(Math.round(((w.usedKwh - w.usualKwh) / w.usualKwh) * 100))
  return `${kwh(w.usedKwh)}, ${words} the usual ${kwh(w.usualKwh)}`
}

const dayTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'long',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
})
/** "Monday 00:00 to Wednesday 14:30" (London). */
export const weekSpan = (w: EnergyWeek) => `${dayTime.format(Date.parse(w.from))} to ${dayTime.format(Date.parse(w.to))}`
