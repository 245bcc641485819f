import { describe, expect, it } from 'vitest'
import { when } from '../../dashboards/web/src/crew-words.ts'
import { dayKeyOf, hhmm, londonOffsetMs, londonParts } from '../../dashboards/web/src/london-time.ts'

const ZONE = 'Europe/London'
const intlTime = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
const intlWeekday = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, weekday: 'short' })
const intlDate = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, day: 'numeric', month: 'short', year: 'numeric' })
const intlKey = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' })

describe('London wall time without Intl (the crew view’s first paint)', () => {
  it('agrees with Intl at every quarter hour around both changes of the clock, 2020–2035', () => {
    for (let year = 2020; year <= 2035; year++)
      for (const month of [2, 9])
        for (let day = 20; day <= 31; day++)
          for (let q = 0; q < 96; q++) {
            const t = Date.UTC(year, month, day) + q * 900_000 + 59_000
            const p = londonParts(t)
            expect(hhmm(p), new Date(t).toISOString()).toBe(intlTime.format(t))
            expect(p.weekday).toBe(intlWeekday.format(t))
            expect(`${p.day} ${p.monthName} ${p.year}`).toBe(intlDate.format(t))
          }
  })

  it('agrees with Intl at random instants over 30 years, and same-day keys agree with Intl’s dates', () => {
    let seed = 42
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    const from = Date.UTC(2000, 0, 1)
    const span = Date.UTC(2030, 0, 1) - from
    for (let i = 0; i < 20_000; i++) {
      const t = from + Math.floor(next() * span)
      const p = londonParts(t)
      expect(hhmm(p), new Date(t).toISOString()).toBe(intlTime.format(t))
      expect(`${p.weekday} ${p.day} ${p.monthName} ${p.year}`).toBe(`${intlWeekday.format(t)} ${intlDate.format(t)}`)
      const u = t + Math.floor(next() * 2 * 86_400_000)
      expect(dayKeyOf(t) === dayKeyOf(u)).toBe(intlKey.format(t) === intlKey.format(u))
    }
  })

  it('changes the clock at 01:00 UTC on the last Sundays of March and October', () => {
    expect(londonOffsetMs(Date.parse('2026-03-29T00:59:59Z'))).toBe(0)
    expect(londonOffsetMs(Date.parse('2026-03-29T01:00:00Z'))).toBe(3_600_000)
    expect(londonOffsetMs(Date.parse('2026-10-25T00:59:59Z'))).toBe(3_600_000)
    expect(londonOffsetMs(Date.parse('2026-10-25T01:00:00Z'))).toBe(0)
    // The autumn's repeated hour: 01:30 London twice, first in summer time.
    expect(hhmm(londonParts(Date.parse('2026-10-25T00:30:00Z')))).toBe('01:30')
    expect(hhmm(londonParts(Date.parse('2026-10-25T01:30:00Z')))).toBe('01:30')
  })

  it('words a time the same way the crew view always has', () => {
    const now = Date.parse('2026-12-01T23:30:00Z') // Tuesday, late evening in London
    expect(when('2026-12-01T00:10:00Z', now)).toBe('00:10')
    expect(when('2026-12-02T00:10:00Z', now)).toBe('Wed 00:10')
    // Midnight in London during summer time is 23:00 UTC the day before.
    const summer = Date.parse('2027-06-08T22:30:00Z') // Tue 23:30 BST
    expect(when('2027-06-08T23:10:00Z', summer)).toBe('Wed 00:10')
    expect(when('2027-06-08T22:50:00Z', summer)).toBe('23:50')
  })
})
