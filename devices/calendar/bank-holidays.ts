import { z } from 'zod'
import { dayNumberOf } from './london-time.ts'

/**
 * Bank holidays in England and Wales (the division Awaab's Law working days use).
 *
 * Source: standards.md §7 — alphagov/frontend `lib/data/bank-holidays.json` @cb2a016 and the
 * public feed https://www.gov.uk/bank-holidays.json ("england-and-wales" division). 2026, 2027
 * and 3 Jan 2028 are as listed there; the rest of 2028 is not in the stored copy and follows the
 * Banking and Financial Dealings Act 1971 pattern (substitute Monday/Tuesday when a holiday falls
 * at a weekend), cross-checked in test/devices/calendar.test.ts against a computed Easter.
 * 2024–2025 are past dates. One-off holidays (like 2022's jubilee) are proclaimed
 * at short notice: refresh from the feed with `holidaysFromGovUk` rather than editing this file.
 */
export interface BankHoliday {
  date: string
  title: string
  substitute?: boolean
}

export const BANK_HOLIDAYS_ENGLAND_WALES: readonly BankHoliday[] = [
  { date: '2024-01-01', title: "New Year's Day" },
  { date: '2024-03-29', title: 'Good Friday' },
  { date: '2024-04-01', title: 'Easter Monday' },
  { date: '2024-05-06', title: 'Early May bank holiday' },
  { date: '2024-05-27', title: 'Spring bank holiday' },
  { date: '2024-08-26', title: 'Summer bank holiday' },
  { date: '2024-12-25', title: 'Christmas Day' },
  { date: '2024-12-26', title: 'Boxing Day' },
  { date: '2025-01-01', title: "New Year's Day" },
  { date: '2025-04-18', title: 'Good Friday' },
  { date: '2025-04-21', title: 'Easter Monday' },
  { date: '2025-05-05', title: 'Early May bank holiday' },
  { date: '2025-05-26', title: 'Spring bank holiday' },
  { date: '2025-08-25', title: 'Summer bank holiday' },
  { date: '2025-12-25', title: 'Christmas Day' },
  { date: '2025-12-26', title: 'Boxing Day' },
  { date: '2026-01-01', title: "New Year's Day" },
  { date: '2026-04-03', title: 'Good Friday' },
  { date: '2026-04-06', title: 'Easter Monday' },
  { date: '2026-05-04', title: 'Early May bank holiday' },
  { date: '2026-05-25', title: 'Spring bank holiday' },
  { date: '2026-08-31', title: 'Summer bank holiday' },
  { date: '2026-12-25', title: 'Christmas Day' },
  { date: '2026-12-28', title: 'Boxing Day', substitute: true },
  { date: '2027-01-01', title: "New Year's Day" },
  { date: '2027-03-26', title: 'Good Friday' },
  { date: '2027-03-29', title: 'Easter Monday' },
  { date: '2027-05-03', title: 'Early May bank holiday' },
  { date: '2027-05-31', title: 'Spring bank holiday' },
  { date: '2027-08-30', title: 'Summer bank holiday' },
  { date: '2027-12-27', title: 'Christmas Day', substitute: true },
  { date: '2027-12-28', title: 'Boxing Day', substitute: true },
  { date: '2028-01-03', title: "New Year's Day", substitute: true },
  { date: '2028-04-14', title: 'Good Friday' },
  { date: '2028-04-17', title: 'Easter Monday' },
  { date: '2028-05-01', title: 'Early May bank holiday' },
  { date: '2028-05-29', title: 'Spring bank holiday' },
  { date: '2028-08-28', title: 'Summer bank holiday' },
  { date: '2028-12-25', title: 'Christmas Day' },
  { date: '2028-12-26', title: 'Boxing Day' },
]

/**
 * A set of holiday day numbers plus the years it is known to cover: a date past the last
 * year may be a holiday nobody told us about, so callers can flag such deadlines.
 */
export interface HolidayCalendar {
  readonly days: ReadonlySet<number>
  readonly firstYear: number
  readonly lastYear: number
}

export function holidayCalendar(list: readonly (BankHoliday | string)[], years?: { firstYear: number; lastYear: number }): HolidayCalendar {
  const days = new Set<number>()
  let first = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  for (const h of list) {
    const date = typeof h === 'string' ? h : h.date
    days.add(dayNumberOf(date))
    const y = Number(date.slice(0, 4))
    first = Math.min(first, y)
    last = Math.max(last, y)
  }
  if (years) return { days, ...years }
  if (days.size === 0) return { days, firstYear: 0, lastYear: -1 }
  return { days, firstYear: first, lastYear: last }
}

export const ENGLAND_AND_WALES: HolidayCalendar = holidayCalendar(BANK_HOLIDAYS_ENGLAND_WALES)

/** The shape of https://www.gov.uk/bank-holidays.json (app/models/calendar.rb in alphagov/frontend). */
const GovUkEvent = z.object({
  title: z.string(),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  notes: z.string().default(''),
})
export const GovUkBankHolidays = z.object({
  'england-and-wales': z.object({ division: z.literal('england-and-wales'), events: z.array(GovUkEvent) }),
})

/** Turns a fetched GOV.UK feed (fetching is the caller's job) into a list for `holidayCalendar`. */
export function holidaysFromGovUk(feed: unknown): BankHoliday[] {
  const parsed = GovUkBankHolidays.parse(feed)
  return parsed['england-and-wales'].events.map((e) => {
    const h: BankHoliday = { date: e.date, title: e.title }
    if (/substitute/i.test(e.notes)) h.substitute = true
    return h
  })
}
