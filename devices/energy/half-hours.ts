import { localClock } from '../calendar/local-time.ts'
import { startOfLondonDay } from '../calendar/london-time.ts'

/**
 * Half-hourly consumption from a cumulative energy register (domain.md §5.4: settlement is
 * half-hourly). London is always a whole number of hours from UTC, so InfluxDB's 30-minute
 * buckets (aligned on UTC) are London's half-hours too.
 */
export const SLOT_MS = 1_800_000
const LONDON = 'Europe/London'
/** Past this, missed reads are not spread over the gap: the half-hours stay unknown. */
export const MAX_SPREAD_MS = 86_400_000

/** One 30-minute bucket of the register: its first and last reading in Wh. */
export interface RegisterBucket {
  /** Start of the bucket, epoch ms. */
  time: number
  first: number
  last: number
}

/** kWh for consecutive half-hours from `from` (slot i starts at from + i × 30 min); null: nothing known. */
export interface Series {
  from: number
  kwh: (number | null)[]
}

/**
 * The register's rise from the first reading of bucket `a` to the first of the next bucket
 * with readings. A register that goes down (a rollover or a replaced meter) gives nothing for the
 * stretch it went down in, as the alert engine's derived demand does (devices/rules/device-eval.ts):
 * only the rise seen on either side of the drop counts.
 */
export function riseWh(a: RegisterBucket, next: RegisterBucket): number {
  if (a.last < a.first) return Math.max(0, next.first - a.last)
  if (next.first < a.last) return a.last - a.first
  return next.first - a.first
}

/**
 * kWh per half-hour over [from, to). A half-hour's figure is the register's rise from its first
 * reading to the next half-hour's first reading, so a meter reading on the half-hour (settlement
 * data) gives exactly that half-hour. After missed reads the rise is spread evenly over the gap
 * (a catch-up is not a spike) when the gap is under a day. The last half-hour with readings, with
 * nothing after it (the current one), counts the rise within it so far.
 * `buckets` may include the bucket starting at `to`, which only closes the last half-hour.
 */
export function halfHourly(buckets: readonly RegisterBucket[], from: number, to: number): Series {
  const n = Math.max(0, Math.ceil((to - from) / SLOT_MS))
  const kwh: (number | null)[] = new Array<number | null>(n).fill(null)
  const put = (t: number, value: number) => {
    const i = Math.round((t - from) / SLOT_MS)
    if (i >= 0 && i < n) kwh[i] = (kwh[i] ?? 0) + value
  }
  const usable = buckets
    .filter((b) => Number.isFinite(b.time) && Number.isFinite(b.first) && Number.isFinite(b.last))
    .sort((a, b) => a.time - b.time)
  for (let k = 0; k < usable.length; k++) {
    const b = usable[k]!
    const next = usable[k + 1]
    const gap = next ? next.time - b.time : 0
    if (!next || gap > MAX_SPREAD_MS) {
      put(b.time, Math.max(0, b.last - b.first) / 1000)
      continue
    }
    const slots = Math.max(1, Math.round(gap / SLOT_MS))
    const each = riseWh(b, next) / 1000 / slots
    for (let s = 0; s < slots; s++) put(b.time + s * SLOT_MS, each)
  }
  return { from, kwh }
}

/** The kWh of the half-hour starting at `t`; null outside the series or unknown. */
export function kwhAt(series: Series, t: number): number | null {
  const i = Math.round((t - series.from) / SLOT_MS)
  return i >= 0 && i < series.kwh.length ? (series.kwh[i] ?? null) : null
}

/** Start of each half-hour of a London day: 48, or 46 and 50 on the days the clocks change. */
export function halfHoursOfDay(day: number): number[] {
  const from = startOfLondonDay(day)
  const to = startOfLondonDay(day + 1)
  const out: number[] = []
  for (let t = from; t < to; t += SLOT_MS) out.push(t)
  return out
}

/** London clock minutes since midnight at an instant (01:00 twice in October gives 60 twice). */
export const londonMinute = (t: number) => Math.round(localClock(t, LONDON).minute)

/** "HH:MM" on London's clock. */
export function londonHhMm(t: number): string {
  const m = londonMinute(t)
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
}
