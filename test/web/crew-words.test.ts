import { describe, expect, it } from 'vitest'
import { when } from '../../dashboards/web/src/crew-words.ts'

describe('crew times in words, London time (issue 11, crew)', () => {
  const now = Date.parse('2026-12-01T10:00:00Z') // a Tuesday
  it('says the time today, the weekday within the week, and the date further off, with no comma', () => {
    expect(when('2026-12-01T13:14:00Z', now)).toBe('13:14')
    expect(when('2026-12-04T07:00:00Z', now)).toBe('Fri 07:00')
    expect(when('2026-12-08T07:00:00Z', now)).toBe('Tue 8 Dec 07:00')
    // Summer time: the clock reads an hour on from UTC.
    expect(when('2027-06-08T13:30:00Z', now)).toBe('Tue 8 Jun 14:30')
  })
})
