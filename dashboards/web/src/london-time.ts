// Europe/London wall time by the UK's own rule, without Intl: a phone's first Intl.DateTimeFormat
// with a time zone loads the zone database, 160–300 ms of main thread on a slow phone (measured in
// Chromium at 4× CPU), more than the crew's whole list costs to draw. test/web/london-time.test.ts
// checks every result against Intl over years of instants, both changes of the clock included.

const HOUR_MS = 3_600_000
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const
// en-GB's short month names as Intl (CLDR) gives them: Sept, not Sep.
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sept', 'Oct', 'Nov', 'Dec'] as const

/** 01:00 UTC on the last Sunday of a month (month 0-based): when British Summer Time starts or ends. */
function lastSundayAt1(year: number, month: number): number {
  const last = Date.UTC(year, month + 1, 0, 1)
  return last - new Date(last).getUTCDay() * 86_400_000
}

/** Summer time from the last Sunday of March to the last Sunday of October, 01:00 UTC both (since 1996). */
export function londonOffsetMs(t: number): number {
  const year = new Date(t).getUTCFullYear()
  return t >= lastSundayAt1(year, 2) && t < lastSundayAt1(year, 9) ? HOUR_MS : 0
}

export interface LondonParts {
  year: number
  /** 1–12 */
  month: number
  day: number
  hour: number
  minute: number
  weekday: (typeof WEEKDAYS)[number]
  monthName: (typeof MONTHS)[number]
}

export function londonParts(t: number): LondonParts {
  const d = new Date(t + londonOffsetMs(t))
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    weekday: WEEKDAYS[d.getUTCDay()]!,
    monthName: MONTHS[d.getUTCMonth()]!,
  }
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n))

/** "14:30" */
export const hhmm = (p: LondonParts) => `${two(p.hour)}:${two(p.minute)}`
/** A key equal for two instants on the same London date. */
export const dayKeyOf = (t: number) => {
  const p = londonParts(t)
  return p.year * 10_000 + p.month * 100 + p.day
}
