import { describe, expect, it } from 'vitest'
import { readingsPerDayRows } from '#devices'
import { createChangeClock, writtenSpans } from '../../dashboards/open-data/change-clock.ts'
import { decodeCursor, encodeCursor } from '../../dashboards/open-data/cursor.ts'
import { createVersionTimes, windowOf } from '../../dashboards/open-data/serve.ts'

const DAY = 86_400_000
const at = (iso: string) => Date.parse(iso)

describe('open data versions: what changed when (issue 13, acceptance 5)', () => {
  it("cluster mode: hears another node's written spans, and reads every day as changed after a missed notice", () => {
    let now = at('2026-06-01T12:00:00Z')
    const clock = createChangeClock(() => now)
    const started = now
    const spans = writtenSpans([
      { type: 'bin', ts: at('2026-06-03T10:00:00Z') },
      { type: 'boiler', ts: at('2026-01-01T10:00:00Z') },
      { type: 'bin', ts: at('2026-06-02T10:00:00Z') },
      { type: 'meter', ts: at('2026-06-04T10:00:00Z') },
    ])
    expect(spans).toEqual([
      { type: 'bin', first: at('2026-06-02T10:00:00Z'), last: at('2026-06-03T10:00:00Z') },
      { type: 'meter', first: at('2026-06-04T10:00:00Z'), last: at('2026-06-04T10:00:00Z') },
    ])
    expect(writtenSpans([{ type: 'room', ts: now }])).toEqual([])
    now += 1_000
    for (const w of spans) clock.noteSpan(w.type, w.first, w.last)
    expect(clock.changedAt('bin', at('2026-06-02T00:00:00Z'), at('2026-06-03T00:00:00Z'))).toBe(now)
    expect(clock.changedAt('bin', at('2026-06-05T00:00:00Z'), at('2026-06-06T00:00:00Z'))).toBe(started)
    now += 1_000
    clock.touchAll()
    expect(clock.changedAt('bin', at('2026-06-05T00:00:00Z'), at('2026-06-06T00:00:00Z'))).toBe(now)
    expect(clock.changedAt('collection', at('2025-06-05T00:00:00Z'), at('2026-06-06T00:00:00Z'))).toBe(now)
  })

  it('marks the London days a batch of readings spans, by type, and answers the latest change over a window', () => {
    let now = at('2026-06-01T12:00:00Z')
    const clock = createChangeClock(() => now)
    const started = now
    const june = { from: at('2026-05-31T23:00:00Z'), to: at('2026-06-07T23:00:00Z') } // London days in BST
    expect(clock.changedAt('bin', june.from, june.to)).toBe(started)

    now += 60_000
    // 23:30 UTC on 2 June is 00:30 on 3 June in London: the 3rd changed, not the 2nd.
    clock.noteReadings([
      { type: 'bin', ts: at('2026-06-02T23:30:00Z') },
      { type: 'boiler', ts: at('2026-06-05T10:00:00Z') },
    ])
    expect(clock.changedAt('bin', june.from, june.to)).toBe(now)
    expect(clock.changedAt('bin', at('2026-06-01T23:00:00Z'), at('2026-06-02T23:00:00Z'))).toBe(started)
    expect(clock.changedAt('bin', at('2026-06-02T23:00:00Z'), at('2026-06-03T23:00:00Z'))).toBe(now)
    // A boiler is no dataset's: nothing public changes with it.
    expect(clock.changedAt('meter', june.from, june.to)).toBe(started)

    // A late reading months back changes that old window, and only windows holding its day.
    const late = now + 60_000
    now = late
    clock.noteReadings([{ type: 'meter', ts: at('2026-01-06T03:00:00Z') }])
    expect(clock.changedAt('meter', at('2026-01-06T00:00:00Z'), at('2026-01-07T00:00:00Z'))).toBe(late)
    expect(clock.changedAt('meter', at('2025-06-01T00:00:00Z'), at('2026-06-01T00:00:00Z'))).toBe(late)
    expect(clock.changedAt('meter', at('2026-01-07T00:00:00Z'), at('2026-02-01T00:00:00Z'))).toBe(started)

    // A batch spanning days marks each day between its first and last reading. Within the same
    // millisecond as the mark before, a mark is still later than it (a batch is noted before and
    // after its write, and the two must make different versions).
    clock.noteReadings([
      { type: 'bin', ts: at('2026-03-10T12:00:00Z') },
      { type: 'bin', ts: at('2026-03-12T12:00:00Z') },
    ])
    expect(clock.changedAt('bin', at('2026-03-11T00:00:00Z'), at('2026-03-12T00:00:00Z'))).toBe(late + 1)
    clock.noteCollection(at('2026-03-20T08:00:00Z'))
    expect(clock.changedAt('collection', at('2026-03-20T00:00:00Z'), at('2026-03-21T00:00:00Z'))).toBe(late + 2)
    expect(clock.changedAt('collection', at('2026-03-21T00:00:00Z'), at('2026-03-22T00:00:00Z'))).toBe(started)
  })

  it('gives each answer a Last-Modified that stays while its version does and moves on, by at least a second, when it changes', () => {
    let now = at('2026-11-30T10:00:00.200Z')
    const times = createVersionTimes(() => now)
    expect(times('bins csv', 'v1')).toBe(at('2026-11-30T10:00:00Z'))
    now += 30_000
    expect(times('bins csv', 'v1')).toBe(at('2026-11-30T10:00:00Z'))
    expect(times('bins geojson', 'v1')).toBe(at('2026-11-30T10:00:30Z'))
    // A new version within the same second as the one before it still reads as later.
    now = at('2026-11-30T10:00:30.900Z')
    expect(times('bins geojson', 'v2')).toBe(at('2026-11-30T10:00:31Z'))
    now = at('2026-11-30T10:05:00.000Z')
    expect(times('bins geojson', 'v3')).toBe(at('2026-11-30T10:05:00Z'))
  })

  it('hands out cursors it can read back, and refuses any other', () => {
    const c = encodeCursor(['bin-7', '2026-01-05'])
    expect(decodeCursor(c, 2)).toEqual(['bin-7', '2026-01-05'])
    expect(decodeCursor(c, 1)).toBeNull()
    for (const bad of ['', 'not base64 !', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[1,2]').toString('base64url')])
      expect(decodeCursor(bad, 2), bad).toBeNull()
    expect(decodeCursor(encodeCursor(['x'.repeat(129), 'y']), 2)).toBeNull()
  })

  it('turns from and to into London midnights, with the default window, and says what is wrong with a bad one', () => {
    const now = at('2026-07-15T22:30:00Z') // 23:30 on the 15th in London: tomorrow is the 16th
    expect(windowOf({}, 7, now)).toEqual({ from: at('2026-07-08T23:00:00Z'), to: at('2026-07-15T23:00:00Z') })
    expect(windowOf({ from: '2026-01-05', to: '2026-01-12' }, 365, now)).toEqual({
      from: at('2026-01-05T00:00:00Z'),
      to: at('2026-01-12T00:00:00Z'),
    })
    // Over the clocks going forward: the window still starts and ends at London midnight.
    const spring = windowOf({ from: '2026-03-28', to: '2026-03-30' }, 365, now) as { from: number; to: number }
    expect(spring.to - spring.from).toBe(2 * DAY - 3_600_000)
    expect(windowOf({ from: '2026-02-30' }, 365, now)).toMatch(/no such date/)
    expect(windowOf({ from: 'yesterday' }, 365, now)).toMatch(/YYYY-MM-DD/)
    expect(windowOf({ from: '2026-01-12', to: '2026-01-12' }, 365, now)).toMatch(/before/)
    expect(windowOf({ from: '2025-01-01', to: '2026-02-06' }, 365, now)).toMatch(/at most 400 days/)
  })
})

describe('sensor readings per day for the public (issue 13, service health)', () => {
  it('adds each site’s daily count to its public areas, never under an estate and never a home’s device', () => {
    const areas = [
      { id: 'north', name: 'North ward', kind: 'ward' as const, sites: ['town', 'park'] },
      { id: 'centre', name: 'Town centre', kind: 'ward' as const, sites: ['town'] },
      { id: 'hawthorn', name: 'Hawthorn estate', kind: 'estate' as const, sites: ['estate'] },
    ]
    const rows = readingsPerDayRows(
      [
        { type: 'bin', site: 'town', date: '2026-11-29', readings: 96 },
        { type: 'bin', site: 'park', date: '2026-11-29', readings: 4 },
        { type: 'bin', site: 'estate', date: '2026-11-29', readings: 10 },
        { type: 'meter', site: 'town', date: '2026-11-28', readings: 48 },
        { type: 'boiler', site: 'estate', date: '2026-11-29', readings: 1440 },
        { type: 'room', site: 'town', date: '2026-11-29', readings: 288 },
        { type: 'bin', site: 'park', date: '2026-11-30', readings: 0 },
      ],
      areas,
    )
    expect(rows).toEqual([
      { type: 'bin', area: 'centre', date: '2026-11-29', readings: 96 },
      { type: 'bin', area: 'north', date: '2026-11-29', readings: 100 },
      { type: 'bin', area: 'unassigned', date: '2026-11-29', readings: 10 },
      { type: 'meter', area: 'centre', date: '2026-11-28', readings: 48 },
      { type: 'meter', area: 'north', date: '2026-11-28', readings: 48 },
    ])
  })
})
