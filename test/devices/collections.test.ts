import { describe, expect, it } from 'vitest'
import {
  type BinLevelReading,
  CollectionDetection,
  CollectionSchedule,
  DEFAULT_COLLECTION_DETECTION,
  type DetectedCollection,
  DetectionState,
  initialDetectionState,
  londonWallTime,
  nextCollection,
  previousCollection,
  scheduledBetween,
  stepCollection,
} from '../../devices/collections/index.ts'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const at = (iso: string) => Date.parse(iso)
const iso = (t: number) => new Date(t).toISOString()
const schedule = (weekdays: number[], time?: string) => CollectionSchedule.parse(time ? { weekdays, time } : { weekdays })

describe('collection schedule', () => {
  it('defaults to 07:00 and refuses empty, repeated or impossible weekdays and times', () => {
    expect(CollectionSchedule.parse({ weekdays: [4] })).toEqual({ weekdays: [4], time: '07:00' })
    for (const bad of [
      { weekdays: [] },
      { weekdays: [1, 1] },
      { weekdays: [0] },
      { weekdays: [8] },
      { weekdays: [1.5] },
      { weekdays: [1], time: '7:00' },
      { weekdays: [1], time: '24:00' },
      { weekdays: [1], tz: 'UTC' },
    ]) {
      expect(CollectionSchedule.safeParse(bad).success, JSON.stringify(bad)).toBe(false)
    }
  })

  it('goes from a Sunday night to the Monday round, in winter and on the night the clocks went forward', () => {
    const monday = schedule([1])
    // Winter: London is on GMT, 07:00 is 07:00 UTC.
    expect(iso(nextCollection(monday, at('2026-01-11T23:30:00Z')))).toBe('2026-01-12T07:00:00.000Z')
    // Sunday 29 March 2026, 22:00 BST: the clocks went forward that morning, so Monday 07:00 BST is 06:00 UTC.
    expect(iso(nextCollection(monday, at('2026-03-29T21:00:00Z')))).toBe('2026-03-30T06:00:00.000Z')
    // Sunday 25 October 2026, 23:30 GMT: back on GMT since that morning.
    expect(iso(nextCollection(monday, at('2026-10-25T23:30:00Z')))).toBe('2026-10-26T07:00:00.000Z')
  })

  it('keeps the crew at 07:00 local time on the days the clocks change (last Sundays of March and October 2026)', () => {
    const sunday = schedule([7])
    // Saturday before each change: the Sunday round is the same day's 07:00 on the new time.
    expect(iso(nextCollection(sunday, at('2026-03-28T12:00:00Z')))).toBe('2026-03-29T06:00:00.000Z')
    expect(iso(nextCollection(sunday, at('2026-10-24T12:00:00Z')))).toBe('2026-10-25T07:00:00.000Z')
    // Early on the day itself, before the change (00:30 UTC), the round is still that morning.
    expect(iso(nextCollection(sunday, at('2026-03-29T00:30:00Z')))).toBe('2026-03-29T06:00:00.000Z')
    expect(iso(nextCollection(sunday, at('2026-10-25T00:30:00Z')))).toBe('2026-10-25T07:00:00.000Z')
  })

  it('is strictly after t: at the collection itself the next is a week on', () => {
    const thursday = schedule([4], '06:30')
    const due = at('2026-06-04T05:30:00Z') // Thursday 06:30 BST
    expect(nextCollection(thursday, due - 1)).toBe(due)
    expect(iso(nextCollection(thursday, due))).toBe('2026-06-11T05:30:00.000Z')
  })

  it('takes the first 01:30 when the hour repeats, and 02:30 BST when 01:30 never happens', () => {
    const day = (d: string) => Math.floor(at(`${d}T00:00:00Z`) / DAY)
    expect(iso(londonWallTime(day('2026-10-25'), 90))).toBe('2026-10-25T00:30:00.000Z')
    expect(iso(londonWallTime(day('2026-03-29'), 90))).toBe('2026-03-29T01:30:00.000Z')
    expect(iso(londonWallTime(day('2026-03-29'), 0))).toBe('2026-03-29T00:00:00.000Z')
    expect(iso(londonWallTime(day('2026-03-30'), 0))).toBe('2026-03-29T23:00:00.000Z')
  })

  it('lists scheduled collections in (from, to] across both 2026 clock changes', () => {
    const monThu = schedule([1, 4])
    expect(scheduledBetween(monThu, at('2026-03-23T07:00:00Z'), at('2026-04-02T06:00:00Z')).map(iso)).toEqual([
      // Monday 23 March 07:00 GMT is `from` itself, so it is left out.
      '2026-03-26T07:00:00.000Z',
      '2026-03-30T06:00:00.000Z',
      '2026-04-02T06:00:00.000Z',
    ])
    expect(scheduledBetween(monThu, at('2026-10-19T00:00:00Z'), at('2026-11-02T07:00:00Z')).map(iso)).toEqual([
      '2026-10-19T06:00:00.000Z',
      '2026-10-22T06:00:00.000Z',
      '2026-10-26T07:00:00.000Z',
      '2026-10-29T07:00:00.000Z',
      '2026-11-02T07:00:00.000Z',
    ])
    expect(scheduledBetween(monThu, at('2026-10-20T00:00:00Z'), at('2026-10-21T00:00:00Z'))).toEqual([])
    expect(scheduledBetween(monThu, at('2026-10-21T00:00:00Z'), at('2026-10-20T00:00:00Z'))).toEqual([])
  })

  it('finds the latest scheduled collection at or before t', () => {
    const friday = schedule([5], '08:15')
    expect(iso(previousCollection(friday, at('2026-03-30T12:00:00Z')))).toBe('2026-03-27T08:15:00.000Z')
    expect(iso(previousCollection(friday, at('2026-04-03T07:15:00Z')))).toBe('2026-04-03T07:15:00.000Z')
    expect(iso(previousCollection(friday, at('2026-04-03T07:14:59Z')))).toBe('2026-03-27T08:15:00.000Z')
  })
})

// Readings every 20 minutes (domain.md §5.1 bin mode) from Monday 5 January 2026.
const T0 = at('2026-01-05T06:00:00Z')
const EVERY = 20 * MIN
// A plain level is an upright reading of a sensor that measures tilt; [level, tilted] gives the tilt.
const readings = (levels: readonly (number | [number, boolean])[], from = T0): BinLevelReading[] =>
  levels.map((l, i) => ({ t: from + i * EVERY, level: Array.isArray(l) ? l[0] : l, tilted: Array.isArray(l) ? l[1] : false }))
/** A sensor without tilt (a Dragino LDDS75): the level alone. */
const levelsOnly = (levels: readonly number[], from = T0): BinLevelReading[] => levels.map((level, i) => ({ t: from + i * EVERY, level }))

/** Steps every reading; with `restartAt`, the state goes through JSON and the schema before that reading, as a restart would. */
function detect(inputs: readonly BinLevelReading[], restartAt?: number, config = DEFAULT_COLLECTION_DETECTION) {
  let state = initialDetectionState()
  const found: { index: number; collection: DetectedCollection }[] = []
  inputs.forEach((r, index) => {
    if (index === restartAt) state = DetectionState.parse(JSON.parse(JSON.stringify(state)))
    const step = stepCollection(config, state, r)
    state = step.state
    if (step.collection) found.push({ index, collection: step.collection })
  })
  return { found, state }
}

describe('collection detection', () => {
  it('uses our defaults: a drop of 0.1 to below 0.15, wasted under 0.3', () => {
    expect(CollectionDetection.parse({})).toEqual({ minDrop: 0.1, emptyBelow: 0.15, wastedBelow: 0.3 })
  })

  it('records a collection without a tilt once the next reading confirms it, dated at the first low reading', () => {
    const inputs = readings([0.7, 0.72, 0.74, 0.02, 0.03, 0.03])
    const { found } = detect(inputs)
    expect(found).toEqual([
      { index: 4, collection: { at: inputs[3]!.t, levelBefore: 0.72, levelAfter: 0.02, wasted: false, tilted: false } },
    ])
  })

  it('records a collection with a tilt blip at the drop or just before it', () => {
    const atDrop = detect(readings([0.8, 0.81, 0.82, [0.01, true], 0.02])).found
    expect(atDrop).toHaveLength(1)
    expect(atDrop[0]!.collection).toMatchObject({ levelBefore: 0.81, levelAfter: 0.01, tilted: true })
    const before = detect(readings([0.8, 0.81, [0.82, true], 0.01, 0.02])).found
    expect(before[0]!.collection.tilted).toBe(true)
    const after = detect(readings([0.8, 0.81, 0.82, 0.01, [0.02, true]])).found
    expect(after[0]!.collection.tilted).toBe(true)
  })

  it('ignores a lid-open glitch (one reading near empty, then back) and keeps it out of the level before', () => {
    const inputs = readings([0.7, 0.72, 0.01, 0.73, 0.74, 0.75, 0.02, 0.02])
    const { found } = detect(inputs)
    expect(found).toEqual([
      { index: 7, collection: { at: inputs[6]!.t, levelBefore: 0.74, levelAfter: 0.02, wasted: false, tilted: false } },
    ])
  })

  it('ignores a lid-open glitch on a bin that reads tilted while the lid is up', () => {
    expect(detect(readings([0.6, 0.6, [0.01, true], 0.61, 0.61])).found).toEqual([])
  })

  it('flags a collection of a bin under 30 % full as a wasted trip', () => {
    const { found } = detect(readings([0.2, 0.21, 0.22, 0.01, 0.01]))
    expect(found.map((f) => f.collection)).toEqual([
      { at: T0 + 3 * EVERY, levelBefore: 0.21, levelAfter: 0.01, wasted: true, tilted: false },
    ])
    expect(detect(readings([0.3, 0.3, 0.3, 0.01, 0.01])).found[0]!.collection.wasted).toBe(false)
  })

  it('takes no settling, small drop or single high outlier for a collection', () => {
    // Rubbish settling: a drop, but not to near empty.
    expect(detect(readings([0.5, 0.5, 0.5, 0.32, 0.31, 0.3])).found).toEqual([])
    // Near empty already: a dip of a few per cent is noise.
    expect(detect(readings([0.1, 0.1, 0.1, 0.03, 0.03])).found).toEqual([])
    // An echo reading far too full right before an ordinary low reading is no full bin emptied.
    expect(detect(readings([0.05, 0.05, 0.97, 0.04, 0.04])).found).toEqual([])
  })

  it('confirms with a reading after a long silence when the bin has refilled only part way', () => {
    const inputs = [...readings([0.9, 0.9, 0.9, 0.02]), { t: T0 + 3 * EVERY + 2 * DAY, level: 0.4 }]
    expect(detect(inputs).found.map((f) => f.collection.at)).toEqual([inputs[3]!.t])
  })

  it('ignores late and repeated readings, also while a drop waits for confirmation', () => {
    const base = readings([0.7, 0.72, 0.74, 0.02, 0.03])
    const late = { t: base[1]!.t + MIN, level: 0.9 }
    const s2 = detect(base.slice(0, 2)).state
    expect(stepCollection(DEFAULT_COLLECTION_DETECTION, s2, { t: base[0]!.t, level: 0.01 }).state).toBe(s2)
    expect(stepCollection(DEFAULT_COLLECTION_DETECTION, s2, base[1]!).state).toBe(s2)
    // A late high reading between the drop and its confirmation must not cancel the collection.
    const inputs = [...base.slice(0, 4), { ...late, t: base[3]!.t - MIN }, base[4]!]
    expect(detect(inputs).found.map((f) => [f.index, f.collection.at])).toEqual([[5, base[3]!.t]])
    // Nor may a late low one make a collection out of a bin that was never emptied.
    expect(
      detect([...readings([0.7, 0.7, 0.7, 0.7]), { t: T0 + EVERY / 2, level: 0.01 }, { t: T0 + 4 * EVERY, level: 0.7 }]).found,
    ).toEqual([])
  })

  it('ignores readings it cannot use', () => {
    const s = detect(readings([0.7, 0.7])).state
    for (const level of [Number.NaN, -0.1, 1.5, Number.POSITIVE_INFINITY]) {
      expect(stepCollection(DEFAULT_COLLECTION_DETECTION, s, { t: T0 + DAY, level }).state).toBe(s)
    }
    expect(stepCollection(DEFAULT_COLLECTION_DETECTION, s, { t: Number.NaN, level: 0.01 }).state).toBe(s)
  })

  it('finds the same collections when restarted before any reading, its state going through JSON', () => {
    const inputs = readings([0.5, 0.55, 0.6, 0.01, 0.62, 0.64, [0.66, true], 0.03, 0.04, 0.05, 0.2, 0.22, 0.24, 0.02, 0.02, 0.03])
    const straight = detect(inputs).found
    expect(straight.map((f) => f.index)).toEqual([8, 14])
    for (let k = 1; k < inputs.length; k++) expect(detect(inputs, k).found, `restart before reading ${k}`).toEqual(straight)
  })

  it('finds collections from the level alone on a sensor without tilt, and records their tilt as unknown, not as upright', () => {
    const inputs = levelsOnly([0.7, 0.72, 0.74, 0.02, 0.03, 0.03])
    expect(detect(inputs).found).toEqual([
      { index: 4, collection: { at: inputs[3]!.t, levelBefore: 0.72, levelAfter: 0.02, wasted: false, tilted: null } },
    ])
    // A lid-open glitch is still no collection, and a wasted trip is still one; across a restart too.
    expect(detect(levelsOnly([0.6, 0.6, 0.01, 0.61, 0.61])).found).toEqual([])
    const wasted = levelsOnly([0.5, 0.55, 0.6, 0.01, 0.62, 0.64, 0.66, 0.03, 0.04, 0.2, 0.22, 0.24, 0.02, 0.02])
    const straight = detect(wasted).found
    expect(straight.map((f) => [f.index, f.collection.wasted, f.collection.tilted])).toEqual([
      [8, false, null],
      [13, true, null],
    ])
    for (let k = 1; k < wasted.length; k++) expect(detect(wasted, k).found, `restart before reading ${k}`).toEqual(straight)
  })

  it('counts a tilt seen or measured upright around the drop over readings that did not measure it', () => {
    const mixed = (tilt: boolean) => [
      ...levelsOnly([0.8, 0.81, 0.82]),
      { t: T0 + 3 * EVERY, level: 0.01, tilted: tilt },
      { t: T0 + 4 * EVERY, level: 0.02 },
    ]
    expect(detect(mixed(true)).found[0]!.collection.tilted).toBe(true)
    expect(detect(mixed(false)).found[0]!.collection.tilted).toBe(false)
  })

  it('reads a state saved before tilt could be unknown', () => {
    const old = { recent: [0.8, 0.8], tilted: false, pending: { t: T0, level: 0.01, before: 0.8, tilted: true }, last: T0 }
    const step = stepCollection(DEFAULT_COLLECTION_DETECTION, DetectionState.parse(old), { t: T0 + EVERY, level: 0.02 })
    expect(step.collection).toMatchObject({ at: T0, tilted: true })
  })

  it('keeps its state small however long it runs', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ t: T0 + i * EVERY, level: ((i % 500) / 500) * 0.9 + 0.05 }))
    const { found, state } = detect(many)
    expect(found).toHaveLength(9)
    expect(state.recent.length).toBeLessThanOrEqual(3)
    expect(JSON.stringify(state).length).toBeLessThan(200)
  })
})
