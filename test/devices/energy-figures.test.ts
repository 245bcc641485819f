import { describe, expect, it } from 'vitest'
import {
  baseLoad,
  dayProfile,
  halfHourly,
  halfHoursOfDay,
  inOpeningHours,
  londonDayNumber,
  mondayOf,
  outOfHoursWaste,
  type RegisterBucket,
  type Series,
  SLOT_MS,
  soFar,
  startOfLondonDay,
  weekFigures,
} from '#devices'

const utc = (iso: string) => Date.parse(iso)
const day = (iso: string) => londonDayNumber(utc(`${iso}T12:00:00Z`))
const H = 3_600_000

/**
 * A meter read on every half-hour from `from` to `to` (inclusive), drawing `kw(t)` in the
 * half-hour starting at t: the register a real settlement meter would report.
 */
function meter(from: number, to: number, kw: (t: number) => number, startWh = 1_000_000): RegisterBucket[] {
  const out: RegisterBucket[] = []
  let wh = startWh
  for (let t = from; t <= to; t += SLOT_MS) {
    out.push({ time: t, first: wh, last: wh })
    wh += kw(t) * 1000 * 0.5
  }
  return out
}
const seriesOf = (from: number, to: number, kw: (t: number) => number): Series => halfHourly(meter(from, to, kw), from, to)

describe('half-hourly kWh from a cumulative register', () => {
  it('gives each half-hour the rise to the next half-hour’s first reading', () => {
    const from = utc('2026-03-02T00:00:00Z')
    const s = seriesOf(from, from + 4 * SLOT_MS, (t) => (t - from) / SLOT_MS + 1)
    expect(s.kwh).toEqual([0.5, 1, 1.5, 2])
  })

  it('spreads a catch-up after missed reads evenly over the gap instead of a spike', () => {
    const from = utc('2026-03-02T00:00:00Z')
    const buckets = meter(from, from + 6 * SLOT_MS, () => 4).filter((_, i) => i < 1 || i > 4)
    expect(halfHourly(buckets, from, from + 6 * SLOT_MS).kwh).toEqual([2, 2, 2, 2, 2, 2])
  })

  it('a register that goes down (rollover, new meter) gives nothing for that stretch and counts on from there', () => {
    const from = utc('2026-03-02T00:00:00Z')
    const buckets: RegisterBucket[] = [
      { time: from, first: 999_000_000, last: 999_000_000 },
      { time: from + SLOT_MS, first: 999_001_000, last: 999_001_000 },
      // Rolled over at 1e9 between readings.
      { time: from + 2 * SLOT_MS, first: 500, last: 500 },
      { time: from + 3 * SLOT_MS, first: 1_500, last: 1_500 },
      // Within one bucket: 2,000 then 300 after a reset; the next starts at 800.
      { time: from + 4 * SLOT_MS, first: 2_000, last: 300 },
      { time: from + 5 * SLOT_MS, first: 800, last: 800 },
    ]
    expect(halfHourly(buckets, from, from + 5 * SLOT_MS).kwh).toEqual([1, 0, 1, 0.5, 0.5])
  })

  it('counts the current half-hour so far, and nothing after the last reading', () => {
    const from = utc('2026-03-02T00:00:00Z')
    const buckets: RegisterBucket[] = [
      { time: from, first: 0, last: 0 },
      { time: from + SLOT_MS, first: 1000, last: 1600 },
    ]
    expect(halfHourly(buckets, from, from + 3 * SLOT_MS).kwh).toEqual([1, 0.6, null])
  })

  it('a London day has 48 half-hours, 46 when the clocks go forward and 50 when they go back', () => {
    expect(halfHoursOfDay(day('2026-03-02'))).toHaveLength(48)
    expect(halfHoursOfDay(day('2026-03-29'))).toHaveLength(46)
    expect(halfHoursOfDay(day('2026-10-25'))).toHaveLength(50)
    expect(halfHoursOfDay(day('2026-07-01'))[0]).toBe(utc('2026-06-30T23:00:00Z'))
  })
})

describe('opening hours and out-of-hours waste', () => {
  it('is open 07:00–19:00 London on working days only: not at night, at weekends or on bank holidays', () => {
    expect(inOpeningHours(utc('2026-03-02T10:00:00Z'))).toBe(true)
    expect(inOpeningHours(utc('2026-03-02T06:30:00Z'))).toBe(false)
    expect(inOpeningHours(utc('2026-03-02T19:00:00Z'))).toBe(false)
    // BST: 07:00 London is 06:00 UTC.
    expect(inOpeningHours(utc('2026-07-01T06:00:00Z'))).toBe(true)
    expect(inOpeningHours(utc('2026-07-01T18:00:00Z'))).toBe(false)
    expect(inOpeningHours(utc('2026-03-07T10:00:00Z'))).toBe(false) // Saturday
    expect(inOpeningHours(utc('2026-05-04T10:00:00Z'))).toBe(false) // Early May bank holiday
    expect(inOpeningHours(utc('2026-05-05T10:00:00Z'))).toBe(true)
  })

  it('the base load is the lower decile of the 02:00–04:00 means of the nights before, once there are 7', () => {
    const from = startOfLondonDay(day('2026-02-02'))
    const monday = day('2026-03-02')
    // Night n draws 2 + n/10 kW at 02:00–04:00 (n = 0 … 27) and 20 kW otherwise.
    const s = seriesOf(from, startOfLondonDay(monday), (t) => {
      const n = londonDayNumber(t) - day('2026-02-02')
      const m = new Date(t).getUTCHours()
      return m >= 2 && m < 4 ? 2 + n / 10 : 20
    })
    const b = baseLoad(s, startOfLondonDay(monday))
    expect(b.nights).toBe(28)
    // Nearest rank: ceil(0.1 × 28) = 3rd lowest, night 2.
    expect(b.kw).toBeCloseTo(2.2, 9)
    const few = baseLoad(s, startOfLondonDay(day('2026-02-08')))
    expect(few).toEqual({ kw: null, nights: 6, needed: 7 })
  })

  it('waste is the energy above the base load in out-of-hours half-hours beyond the tolerance (× 1.2 + 1 kW)', () => {
    const mon = startOfLondonDay(day('2026-03-02'))
    const kw: Record<string, number> = {
      '2026-03-02T01:00:00.000Z': 10, // night, beyond 2 × 1.2 + 1 = 3.4: (10 − 2) × 0.5 = 4 kWh
      '2026-03-02T01:30:00.000Z': 3.3, // within tolerance: not waste
      '2026-03-02T10:00:00.000Z': 50, // open: not out of hours
      '2026-03-07T10:00:00.000Z': 6, // Saturday: (6 − 2) × 0.5 = 2 kWh
    }
    const s = seriesOf(mon, mon + 7 * 24 * H, (t) => kw[new Date(t).toISOString()] ?? 2)
    const w = outOfHoursWaste(s, mon, mon + 7 * 24 * H, 2)
    expect(w.wasteKwh).toBeCloseTo(6, 9)
    expect(outOfHoursWaste(s, mon, mon + 7 * 24 * H, null).wasteKwh).toBeNull()
    // Bank holiday Monday: all day out of hours.
    const may = startOfLondonDay(day('2026-05-04'))
    const hol = seriesOf(may, may + 24 * H, (t) => (t === may + 10 * H ? 12 : 2))
    expect(outOfHoursWaste(hol, may, may + 24 * H, 2).wasteKwh).toBeCloseTo(5, 9)
  })

  it('the week’s figures put a price on the waste at the tariff, rounded as the alerts round', () => {
    const monday = day('2026-03-02')
    const from = startOfLondonDay(monday - 56)
    const now = startOfLondonDay(monday) + 3 * H
    // 2 kW always; this Monday 01:00–02:00 London 12 kW: 2 × (12 − 2) × 0.5 = 10 kWh.
    const s = seriesOf(from, now, (t) => (t >= startOfLondonDay(monday) + H && t < startOfLondonDay(monday) + 2 * H ? 12 : 2))
    const w = weekFigures(s, monday, now, 0.28)
    expect(w.baseLoadKw).toBe(2)
    expect(w.wasteKwh).toBe(10)
    expect(w.wasteGbp).toBe(2.8)
    expect(w.usedKwh).toBe(16) // 2 × 1 + 12 × 1 + 2 × 1 kWh over three hours
    expect(w.usualKwh).toBe(6)
    expect(w.weeks).toBe(8)
    expect(mondayOf(day('2026-03-08'))).toBe(monday)
    expect(mondayOf(monday)).toBe(monday)
  })
})

describe("a day against the same weekday's baseline band", () => {
  it('median and 10th–90th percentile of the past weeks per half-hour, once 4 weeks have readings', () => {
    const target = day('2026-03-03')
    const from = startOfLondonDay(target - 35)
    // Five past Tuesdays drawing 2, 4, 6, 8, 10 kW all day (1 … 5 kWh a half-hour); other days nothing read.
    const buckets = [1, 2, 3, 4, 5].flatMap((k) => {
      const d = target - 7 * k
      return meter(startOfLondonDay(d), startOfLondonDay(d + 1), () => 2 * k)
    })
    const s = halfHourly(buckets, from, startOfLondonDay(target + 1))
    const p = dayProfile(s, target)
    expect(p.weeks).toBe(5)
    expect(p.slots).toHaveLength(48)
    expect(p.slots[20]).toMatchObject({ time: '10:00', kwh: null, median: 3, low: 1, high: 5 })

    const three = halfHourly(
      buckets.filter((b) => b.time >= startOfLondonDay(target - 21)),
      from,
      startOfLondonDay(target + 1),
    )
    const none = dayProfile(three, target)
    expect(none.weeks).toBe(3)
    expect(none.needed).toBe(4)
    expect(none.slots.every((x) => x.median === null && x.low === null && x.high === null)).toBe(true)
  })

  it('lines up the days the clocks change by London clock time (50 half-hours against 48)', () => {
    const target = day('2026-10-25') // a Sunday, 25 hours long
    const from = startOfLondonDay(target - 28)
    const s = seriesOf(from, startOfLondonDay(target + 1), () => 2)
    const p = dayProfile(s, target)
    expect(p.slots).toHaveLength(50)
    expect(p.slots.filter((x) => x.time === '01:00')).toHaveLength(2)
    expect(p.slots.every((x) => x.median === 1 && x.kwh === 1)).toBe(true)
    const spring = dayProfile(
      seriesOf(startOfLondonDay(day('2026-03-29') - 28), startOfLondonDay(day('2026-03-30')), () => 2),
      day('2026-03-29'),
    )
    expect(spring.slots).toHaveLength(46)
    expect(spring.slots.map((x) => x.time)).not.toContain('01:00')
    expect(spring.slots.every((x) => x.median === 1)).toBe(true)
  })

  it('today so far against the usual by the same time of day', () => {
    const target = day('2026-03-03')
    const start = startOfLondonDay(target)
    const from = startOfLondonDay(target - 56)
    const now = start + 10 * H + 10 * 60_000
    // Past days 2 kW; today 3 kW: 10 hours so far, 30 kWh against 20.
    const s = seriesOf(from, now, (t) => (t >= start ? 3 : 2))
    const f = soFar(s, target, now)
    expect(f.at).toBe(start + 10 * H)
    expect(f.kwh).toBeCloseTo(30, 9)
    expect(f.usualKwh).toBeCloseTo(20, 9)
  })
})
