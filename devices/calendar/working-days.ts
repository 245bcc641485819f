import { ENGLAND_AND_WALES, type HolidayCalendar } from './bank-holidays.ts'
import { endOfLondonDay, isoDateOf, londonDayNumber, weekdayOf } from './london-time.ts'

export interface WorkingDayOptions {
  /**
   * Count the start's own London day as working day 1 when it is a working day.
   * Off (the default) is plain date arithmetic: day 1 is the next working day.
   * Awaab's Law sources disagree on which applies (standards.md §8), so the case clocks
   * choose; the calendar only counts.
   */
  countStartDay?: boolean
}

function isWorkingDayNumber(dayNumber: number, holidays: HolidayCalendar): boolean {
  const w = weekdayOf(dayNumber)
  return w !== 0 && w !== 6 && !holidays.days.has(dayNumber)
}

/** Whether the London civil day containing `ms` is a working day in England. */
export function isWorkingDay(ms: number, holidays: HolidayCalendar = ENGLAND_AND_WALES): boolean {
  return isWorkingDayNumber(londonDayNumber(ms), holidays)
}

/**
 * The end (23:59:59.999 London time) of the n-th working day counted from the London day of
 * `startMs`. Ending at the end of the day, not at the start's time of day, is what
 * "within n working days" means for a person: the whole last day is theirs.
 */
export function addWorkingDays(
  startMs: number,
  n: number,
  holidays: HolidayCalendar = ENGLAND_AND_WALES,
  options: WorkingDayOptions = {},
): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`working days must be a whole number ≥ 0, got ${n}`)
  let day = londonDayNumber(startMs)
  let remaining = n
  if (options.countStartDay && remaining > 0 && isWorkingDayNumber(day, holidays)) remaining -= 1
  while (remaining > 0) {
    day += 1
    if (isWorkingDayNumber(day, holidays)) remaining -= 1
  }
  return endOfLondonDay(day)
}

/** The end of the London day `days` calendar days after the start's London day (weeks are 7 × this). */
export function addCalendarDays(startMs: number, days: number): number {
  if (!Number.isInteger(days) || days < 0) throw new RangeError(`calendar days must be a whole number ≥ 0, got ${days}`)
  return endOfLondonDay(londonDayNumber(startMs) + days)
}

/**
 * Whether the holiday list is known to cover the London date of `ms`. Past its last year the
 * calendar only skips weekends, so a deadline there may fall on a holiday we were never told about.
 */
export function calendarCovers(ms: number, holidays: HolidayCalendar = ENGLAND_AND_WALES): boolean {
  const year = Number(isoDateOf(londonDayNumber(ms)).slice(0, 4))
  return year >= holidays.firstYear && year <= holidays.lastYear
}

/** The London civil date of an instant as YYYY-MM-DD, for people and logs. */
export function londonDate(ms: number): string {
  return isoDateOf(londonDayNumber(ms))
}
