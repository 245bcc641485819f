import { describe, expect, it } from 'vitest'
import {
  addCalendarDays,
  addWorkingDays,
  BANK_HOLIDAYS_ENGLAND_WALES,
  calendarCovers,
  ENGLAND_AND_WALES,
  endOfLondonDay,
  holidayCalendar,
  holidaysFromGovUk,
  isWorkingDay,
  londonDate,
  londonDayNumber,
  londonOffsetMs,
  startOfLondonDay,
} from '#devices'

const utc = (iso: string) => Date.parse(iso)
// End of a London day, written as the UTC instant people can check by hand.
const endGMT = (date: string) => utc(`${date}T23:59:59.999Z`)
const endBST = (date: string) => utc(`${date}T22:59:59.999Z`)

/** Statutory pattern (Banking and Financial Dealings Act 1971 + substitutes), to check the shipped list independently. */
function expectedHolidays(year: number): string[] {
  const iso = (m: number, d: number) => new Date(Date.UTC(year, m - 1, d)).toISOString().slice(0, 10)
  const dow = (m: number, d: number) => new Date(Date.UTC(year, m - 1, d)).getUTCDay()
  // Anonymous Gregorian Easter (Meeus/Jones/Butcher).
  const a = year % 19
  const b = Math.floor(year / 100)
  const c = year % 100
  const g = Math.floor((b - Math.floor((b + 8) / 25) + 1) / 3)
  const h = (19 * a + b - Math.floor(b / 4) - g + 15) % 30
  const l = (32 + 2 * (b % 4) + 2 * Math.floor(c / 4) - h - (c % 4)) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  const month = Math.floor((h + l - 7 * m + 114) / 31)
  const day = ((h + l - 7 * m + 114) % 31) + 1
  const easter = Date.UTC(year, month - 1, day)
  const shift = (ms: number, days: number) => new Date(ms + days * 86_400_000).toISOString().slice(0, 10)
  const firstMonday = (m: number) => ((8 - dow(m, 1)) % 7) + 1
  const lastMonday = (m: number, len: number) => len - ((dow(m, len) + 6) % 7)
  const jan1 = dow(1, 1)
  const newYear = jan1 === 6 ? iso(1, 3) : jan1 === 0 ? iso(1, 2) : iso(1, 1)
  const xmas = dow(12, 25)
  // Christmas on Sat → Mon 27 + Tue 28; on Sun → Tue 27 for Christmas, Boxing Day Mon 26; Boxing Day on Sat → Mon 28.
  const christmas =
    xmas === 6
      ? [iso(12, 27), iso(12, 28)]
      : xmas === 0
        ? [iso(12, 26), iso(12, 27)]
        : xmas === 5
          ? [iso(12, 25), iso(12, 28)]
          : [iso(12, 25), iso(12, 26)]
  return [
    newYear,
    shift(easter, -2),
    shift(easter, 1),
    iso(5, firstMonday(5)),
    iso(5, lastMonday(5, 31)),
    iso(8, lastMonday(8, 31)),
    ...christmas,
  ]
}

describe('shipped bank holidays (England and Wales)', () => {
  it('match the statutory pattern for 2024–2028, substitute days included', () => {
    const shipped = BANK_HOLIDAYS_ENGLAND_WALES.map((h) => h.date)
    const expected = [2024, 2025, 2026, 2027, 2028].flatMap(expectedHolidays)
    expect(shipped).toEqual(expected)
  })

  it('agree with standards.md §7 for the Christmas and Easter dates the tests rely on', () => {
    const dates = new Set(BANK_HOLIDAYS_ENGLAND_WALES.map((h) => h.date))
    for (const d of [
      '2026-04-03',
      '2026-04-06',
      '2026-12-25',
      '2026-12-28',
      '2027-03-26',
      '2027-03-29',
      '2027-12-27',
      '2027-12-28',
      '2028-01-03',
    ]) {
      expect(dates.has(d), d).toBe(true)
    }
    expect(BANK_HOLIDAYS_ENGLAND_WALES.filter((h) => h.substitute).map((h) => h.date)).toEqual([
      '2026-12-28',
      '2027-12-27',
      '2027-12-28',
      '2028-01-03',
    ])
  })

  it('covers 2024 to 2028', () => {
    expect([ENGLAND_AND_WALES.firstYear, ENGLAND_AND_WALES.lastYear]).toEqual([2024, 2028])
    expect(calendarCovers(utc('2028-12-31T12:00:00Z'))).toBe(true)
    expect(calendarCovers(utc('2029-01-01T12:00:00Z'))).toBe(false)
  })
})

describe('London time', () => {
  it('knows GMT from BST on both sides of each change', () => {
    // BST 2026: 29 Mar 01:00 UTC – 25 Oct 01:00 UTC; 2027: 28 Mar – 31 Oct.
    expect(londonOffsetMs(utc('2026-03-29T00:59:59Z'))).toBe(0)
    expect(londonOffsetMs(utc('2026-03-29T01:00:00Z'))).toBe(3_600_000)
    expect(londonOffsetMs(utc('2026-10-25T00:59:59Z'))).toBe(3_600_000)
    expect(londonOffsetMs(utc('2026-10-25T01:00:00Z'))).toBe(0)
    expect(londonOffsetMs(utc('2027-03-28T01:00:00Z'))).toBe(3_600_000)
  })

  it('puts an instant on its London day, not its UTC day', () => {
    expect(londonDate(utc('2026-06-01T23:30:00Z'))).toBe('2026-06-02') // 00:30 BST
    expect(londonDate(utc('2026-12-01T23:30:00Z'))).toBe('2026-12-01') // 23:30 GMT
  })

  it('has 23- and 25-hour days when the clocks change', () => {
    const spring = londonDayNumber(utc('2026-03-29T12:00:00Z'))
    const autumn = londonDayNumber(utc('2026-10-25T12:00:00Z'))
    expect(startOfLondonDay(spring + 1) - startOfLondonDay(spring)).toBe(23 * 3_600_000)
    expect(startOfLondonDay(autumn + 1) - startOfLondonDay(autumn)).toBe(25 * 3_600_000)
    expect(startOfLondonDay(autumn)).toBe(utc('2026-10-24T23:00:00Z'))
    expect(endOfLondonDay(autumn)).toBe(endGMT('2026-10-25'))
  })
})

describe('isWorkingDay()', () => {
  it('skips weekends and bank holidays, judged in London time', () => {
    expect(isWorkingDay(utc('2026-12-24T12:00:00Z'))).toBe(true)
    expect(isWorkingDay(utc('2026-12-25T12:00:00Z'))).toBe(false)
    expect(isWorkingDay(utc('2026-12-28T12:00:00Z'))).toBe(false) // Boxing Day substitute
    expect(isWorkingDay(utc('2027-03-29T09:00:00Z'))).toBe(false) // Easter Monday
    // 23:30 UTC on Friday 5 June is 00:30 BST on Saturday.
    expect(isWorkingDay(utc('2026-06-05T23:30:00Z'))).toBe(false)
    // 23:30 UTC on Sunday 7 June is 00:30 BST on Monday.
    expect(isWorkingDay(utc('2026-06-07T23:30:00Z'))).toBe(true)
  })
})

describe('addWorkingDays()', () => {
  it('runs to the end of the London working day over a weekend', () => {
    expect(addWorkingDays(utc('2026-11-13T10:00:00Z'), 1)).toBe(endGMT('2026-11-16')) // Fri → Mon
    expect(addWorkingDays(utc('2026-11-13T10:00:00Z'), 5)).toBe(endGMT('2026-11-20'))
  })

  it('skips Christmas 2026 (Boxing Day substitute on Mon 28 Dec)', () => {
    expect(addWorkingDays(utc('2026-12-23T10:00:00Z'), 3)).toBe(endGMT('2026-12-30'))
  })

  it('skips Christmas 2027 (both substitute days) and New Year 2028 (substitute Mon 3 Jan)', () => {
    expect(addWorkingDays(utc('2027-12-24T10:00:00Z'), 1)).toBe(endGMT('2027-12-29'))
    expect(addWorkingDays(utc('2027-12-31T10:00:00Z'), 1)).toBe(endGMT('2028-01-04'))
  })

  it('skips Easter 2026 and ends in BST', () => {
    expect(addWorkingDays(utc('2026-04-02T10:00:00+01:00'), 1)).toBe(endBST('2026-04-07'))
  })

  it('skips Easter 2027, which falls on the weekend the clocks go forward', () => {
    expect(addWorkingDays(utc('2027-03-25T10:00:00Z'), 1)).toBe(endBST('2027-03-30'))
  })

  it('crosses the autumn change from BST into GMT', () => {
    expect(addWorkingDays(utc('2026-10-23T16:00:00+01:00'), 1)).toBe(endGMT('2026-10-26'))
  })

  it('counts the start day as day 1 only when asked and only if it is a working day', () => {
    const wed = utc('2026-12-23T10:00:00Z')
    expect(addWorkingDays(wed, 3, ENGLAND_AND_WALES, { countStartDay: true })).toBe(endGMT('2026-12-29'))
    expect(addWorkingDays(wed, 1, ENGLAND_AND_WALES, { countStartDay: true })).toBe(endGMT('2026-12-23'))
    const christmas = utc('2026-12-25T10:00:00Z')
    expect(addWorkingDays(christmas, 1, ENGLAND_AND_WALES, { countStartDay: true })).toBe(endGMT('2026-12-29'))
  })

  it('takes the London day of a late-evening start', () => {
    // 23:30 UTC on Sun 7 Jun is Monday in London: Monday is day 0, so 1 working day ends Tuesday.
    expect(addWorkingDays(utc('2026-06-07T23:30:00Z'), 1)).toBe(endBST('2026-06-09'))
  })

  it('uses a calendar passed in, e.g. one refreshed from the GOV.UK feed', () => {
    const feed = {
      'england-and-wales': {
        division: 'england-and-wales',
        events: [
          { title: 'Boxing Day', date: '2026-12-28', notes: 'Substitute day', bunting: true },
          { title: 'Extra bank holiday', date: '2026-12-29', notes: '', bunting: true },
        ],
      },
    }
    const list = holidaysFromGovUk(feed)
    expect(list[0]).toEqual({ date: '2026-12-28', title: 'Boxing Day', substitute: true })
    const cal = holidayCalendar([...BANK_HOLIDAYS_ENGLAND_WALES, ...list])
    expect(addWorkingDays(utc('2026-12-23T10:00:00Z'), 3, cal)).toBe(endGMT('2026-12-31'))
    expect(() => holidaysFromGovUk({ scotland: {} })).toThrow()
  })

  it('refuses nonsense', () => {
    expect(() => addWorkingDays(0, -1)).toThrow(RangeError)
    expect(() => addWorkingDays(0, 1.5)).toThrow(RangeError)
    expect(() => addWorkingDays(Number.NaN, 1)).toThrow(RangeError)
    expect(() => holidayCalendar(['2026-02-30'])).toThrow(RangeError)
  })
})

describe('addCalendarDays()', () => {
  it('counts 12 weeks in London days across the spring change', () => {
    expect(addCalendarDays(utc('2026-12-23T15:00:00Z'), 84)).toBe(endGMT('2027-03-17'))
    expect(addCalendarDays(utc('2027-02-01T15:00:00Z'), 84)).toBe(endBST('2027-04-26'))
  })
})
