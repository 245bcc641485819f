/**
 * Civil dates in Europe/London, computed with Intl so BST/GMT changes come
 * from the platform's tz database rather than a hand-written rule.
 *
 * A civil date is carried as a "day number": days since 1970-01-01 on the
 * proleptic Gregorian calendar. Day arithmetic on day numbers never touches a
 * time zone, so adding a day cannot land on 23:00 or 01:00 across a clock change.
 */

const DAY_MS = 86_400_000

// One formatter for the process: constructing Intl formatters is the slow part.
const londonParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
})

function wallClock(ms: number): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 }
  for (const p of londonParts.formatToParts(ms)) {
    if (p.type in out) out[p.type as keyof typeof out] = Number(p.value)
  }
  return out
}

/** London's offset from UTC at an instant, in ms (0 in GMT, 3,600,000 in BST). */
export function londonOffsetMs(ms: number): number {
  const w = wallClock(ms)
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second)
  return asUtc - Math.floor(ms / 1000) * 1000
}

/** The London civil day (as a day number) that contains the instant. */
export function londonDayNumber(ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`not a finite time: ${ms}`)
  const w = wallClock(ms)
  return Date.UTC(w.year, w.month - 1, w.day) / DAY_MS
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

/** 0 = Sunday … 6 = Saturday; 1970-01-01 was a Thursday. */
export function weekdayOf(dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7
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
