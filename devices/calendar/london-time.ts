/**
 * Civil dates in Europe/London, computed with Intl so BST/GMT changes come
 * from the platform's tz database rather than a hand-written rule.
 *
 * A civil date is carried as a "day number": days since 1970-01-01 on the
 * proleptic Gregorian calendar. Day arithmetic on day numbers never touches a
 * time zone, so adding a day cannot land on 23:00 or 01:00 across a clock change.
 */

import { cachedOffset, weekdayOf } from './local-time.ts'

const DAY_MS = 86_400_000
const LONDON = 'Europe/London'

export { weekdayOf }

/** London's offset from UTC at an instant, in ms (0 in GMT, 3,600,000 in BST). */
// Cached per six-hour block (local-time.ts): deadline sums over hundreds of cases call this thousands of times.
export const londonOffsetMs = (ms: number): number => cachedOffset(ms, LONDON)

/** The London civil day (as a day number) that contains the instant. */
export function londonDayNumber(ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`not a finite time: ${ms}`)
  return Math.floor((ms + londonOffsetMs(ms)) / DAY_MS)
}

export function dayNumberOf(isoDate: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate)
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${isoDate}`)
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const dn = Date.UTC(y, mo - 1, d) / DAY_MS
  // Date.UTC rolls 2026-02-30 over to March; refuse it instead of shifting a holiday.
  if (isoDateOf(dn) !== isoDate) throw new RangeError(`no such date: ${isoDate}`)
  return dn
}

export function isoDateOf(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10)
}

/**
 * The instant London midnight begins the civil day. UK clocks change at 01:00 UTC,
 * never at local midnight, so every London day has exactly one midnight; one
 * correction step covers the case where the first offset guess was on the other side.
 */
export function startOfLondonDay(dayNumber: number): number {
  const utcMidnight = dayNumber * DAY_MS
  const first = utcMidnight - londonOffsetMs(utcMidnight)
  const offset = londonOffsetMs(first)
  return utcMidnight - offset
}

/** The last millisecond of the London civil day: deadlines "end at the end of the working day". */
export function endOfLondonDay(dayNumber: number): number {
  return startOfLondonDay(dayNumber + 1) - 1
}
