import { z } from 'zod'
import { HhMm, localClock, minutesOf, weekdayOf } from '../calendar/local-time.ts'

const DAY_MS = 86_400_000
const MIN_MS = 60_000
const LONDON = 'Europe/London'

// Through localClock's cached offsets: a schedule is asked on every bin reading, and an uncached
// zone lookup per call costs more than the rest of the computation together.
const offsetAt = (t: number) => {
  const c = localClock(t, LONDON)
  return Math.round(c.day * DAY_MS + c.minute * MIN_MS - t)
}
const dayOf = (t: number) => {
  if (!Number.isFinite(t)) throw new RangeError(`not a finite time: ${t}`)
  return localClock(t, LONDON).day
}

/** ISO 8601 weekday: 1 = Monday … 7 = Sunday, the numbering council round sheets use. */
export const IsoWeekday = z.number().int().min(1).max(7)

/**
 * When a round's crew passes, in Europe/London local time (bins are emptied by the clock on the
 * depot wall, so 07:00 stays 07:00 across the clock changes).
 */
export const CollectionSchedule = z.strictObject({
  weekdays: z
    .array(IsoWeekday)
    .min(1)
    .max(7)
    .refine((days) => new Set(days).size === days.length, 'each weekday once')
    .describe('1 = Monday … 7 = Sunday'),
  time: HhMm.default('07:00').describe('local time (Europe/London) the crew passes, HH:MM'),
})
export type CollectionSchedule = z.infer<typeof CollectionSchedule>

/** The ISO weekday (1 = Monday … 7 = Sunday) of a London day number. */
export const isoWeekdayOf = (day: number) => weekdayOf(day) || 7

/**
 * The instant London clocks show `minute` on `day`. In the October repeated hour it is the first
 * time the clocks show it. A time in the March missing hour (01:00–02:00 never happens) reads
 * an hour on: 01:30 is 02:30 BST.
 */
export function londonWallTime(day: number, minute: number): number {
  const wall = day * DAY_MS + minute * MIN_MS
  // UK clocks change at 01:00 UTC, so the offsets at the day's UTC ends are the ones either side of any change that day.
  const before = wall - offsetAt(day * DAY_MS)
  const after = wall - offsetAt((day + 1) * DAY_MS - 1)
  const shows = (t: number) => t + offsetAt(t) === wall
  if (shows(before)) return before
  if (shows(after)) return after
  return before
}

/** The scheduled collection instants on one London day (none when it is not a collection weekday). */
function onDay(schedule: CollectionSchedule, day: number): number | null {
  return schedule.weekdays.includes(isoWeekdayOf(day)) ? londonWallTime(day, minutesOf(schedule.time)) : null
}

/** The next scheduled collection strictly after `t` (epoch ms). */
export function nextCollection(schedule: CollectionSchedule, t: number): number {
  const first = dayOf(t)
  // Today's may have passed already; within the next seven days every weekday comes round.
  for (let day = first; day <= first + 7; day++) {
    const at = onDay(schedule, day)
    if (at !== null && at > t) return at
  }
  throw new RangeError('a collection schedule needs at least one weekday')
}

/** The latest scheduled collection at or before `t` (epoch ms): the one a bin-not-collected check looks back to. */
export function previousCollection(schedule: CollectionSchedule, t: number): number {
  const last = dayOf(t)
  for (let day = last; day >= last - 7; day--) {
    const at = onDay(schedule, day)
    if (at !== null && at <= t) return at
  }
  throw new RangeError('a collection schedule needs at least one weekday')
}

/** Scheduled collection instants in (from, to], oldest first. */
export function scheduledBetween(schedule: CollectionSchedule, from: number, to: number): number[] {
  if (!(to > from)) return []
  const out: number[] = []
  const last = dayOf(to)
  for (let day = dayOf(from); day <= last; day++) {
    const at = onDay(schedule, day)
    if (at !== null && at > from && at <= to) out.push(at)
  }
  return out
}

/** The London day an instant falls on, as [midnight, next midnight) in epoch ms (23 or 25 hours across a clock change). */
export function londonDayBounds(t: number): [number, number] {
  const day = dayOf(t)
  return [londonWallTime(day, 0), londonWallTime(day + 1, 0)]
}
