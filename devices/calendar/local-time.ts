import { z } from 'zod'

const DAY_MS = 86_400_000
const formatters = new Map<string, Intl.DateTimeFormat>()
const offsets = new Map<string, number>()
const QUARTER_MS = 900_000

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    const opts = {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    } as const
    f = new Intl.DateTimeFormat('en-US', opts)
    formatters.set(timeZone, f)
  }
  return f
}

export const TimeZone = z.string().refine(
  (tz) => {
    try {
      formatter(tz)
      return true
    } catch {
      return false
    }
  },
  { message: 'unknown IANA time zone' },
)

/** Local minus UTC at t, from the zone rules Node ships (ICU), so clock changes need no table of ours. */
export function offsetAt(t: number, timeZone: string): number {
  const whole = Math.floor(t / 1000) * 1000
  const parts = formatter(timeZone).formatToParts(whole)
  const n = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? 0)
  const d = new Date(0)
  // setUTCFullYear rather than Date.UTC, which reads years 0–99 as 1900–1999.
  d.setUTCFullYear(n('year'), n('month') - 1, n('day'))
  d.setUTCHours(n('hour'), n('minute'), n('second'), 0)
  const offset = d.getTime() - whole
  // Far outside the calendar ICU formats sensibly (eras, year 0), fall back to UTC rather than invent a day.
  return Number.isFinite(offset) && Math.abs(offset) < DAY_MS ? offset : 0
}

/**
 * Offsets are looked up per six-hour block, and cached when both ends agree (no zone changes
 * twice in six hours); a block with a change is cached per quarter hour instead, the step
 * every zone changes on. Every device in the block shares one lookup.
 */
const BLOCK_MS = 6 * 3_600_000
export function cachedOffset(t: number, timeZone: string): number {
  const b = Math.floor(t / BLOCK_MS)
  const blockKey = `${timeZone}|b${b}`
  const hit = offsets.get(blockKey)
  if (hit !== undefined) return hit
  const q = Math.floor(t / QUARTER_MS)
  const quarterKey = `${timeZone}|q${q}`
  const qHit = offsets.get(quarterKey)
  if (qHit !== undefined) return qHit
  if (offsets.size >= 4096) offsets.clear()
  const start = offsetAt(b * BLOCK_MS, timeZone)
  if (offsetAt(b * BLOCK_MS + BLOCK_MS - 1000, timeZone) === start) {
    offsets.set(blockKey, start)
    return start
  }
  const qStart = offsetAt(q * QUARTER_MS, timeZone)
  if (offsetAt(q * QUARTER_MS + QUARTER_MS - 1000, timeZone) !== qStart) return offsetAt(t, timeZone)
  offsets.set(quarterKey, qStart)
  return qStart
}

export interface LocalClock {
  /** Local calendar day as days since 1970-01-01. */
  day: number
  /** Minutes since local midnight (fractional). */
  minute: number
}

export function localClock(t: number, timeZone: string): LocalClock {
  const local = t + cachedOffset(t, timeZone)
  const day = Math.floor(local / DAY_MS)
  return { day, minute: (local - day * DAY_MS) / 60_000 }
}

/** 0 = Sunday; 1970-01-01 was a Thursday. */
export const weekdayOf = (day: number) => (((day + 4) % 7) + 7) % 7

export const HhMm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour')
export const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

/**
 * A daily local period [from, to): equal ends mean the whole day; to before from runs past
 * midnight and belongs to the day it started. Being local, it follows the clocks: on the day
 * they go back 01:00–02:00 happens twice, on the day they go forward not at all.
 */
export class DailyPeriod {
  readonly from: number
  readonly to: number
  constructor(from: string, to: string) {
    this.from = minutesOf(from)
    this.to = minutesOf(to)
  }

  /** The day the period containing this local time belongs to, or null outside the period. */
  keyOf(c: LocalClock): number | null {
    const { from, to } = this
    if (from === to) return c.day
    if (from < to) return c.minute >= from && c.minute < to ? c.day : null
    return c.minute >= from ? c.day : c.minute < to ? c.day - 1 : null
  }

  /** Local minutes from this time to the period's end (only meaningful inside it). */
  minutesLeft(c: LocalClock): number {
    const { from, to } = this
    if (from === to) return 1440 - c.minute
    return c.minute >= from && from > to ? 1440 - c.minute + to : to - c.minute
  }

  /** Length in local clock minutes (a changed-clock day differs by an hour; coverage tolerates that). */
  get minutes(): number {
    return this.from === this.to ? 1440 : (this.to - this.from + 1440) % 1440
  }
}
