import { linePrefix, lineWith } from '../../influx/line-protocol.ts'

/**
 * A city's street bins with a year of sensor history, written fast: provisioned through the API
 * (the service must know them), their readings straight into InfluxDB's /write in large batches
 * (through MQTT a year of readings would take longer than the test may). Issue 13, acceptance 4.
 */
export interface PlacedBin {
  id: string
  name: string
  site: string
  latitude: number
  longitude: number
}

const DAY_MS = 86_400_000

/** A UTC calendar date (YYYY-MM-DD) from a day number (days since 1970-01-01). */
export const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10)
export const dayOf = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY_MS

/** Today's date in London, as a day number (the open-data API's days are London days). */
export function londonToday(now = Date.now()): number {
  const iso = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
  return dayOf(iso)
}

/**
 * Reading times within a UTC day, as UTC hours. London is UTC or UTC+1, so 09:00–15:00 UTC is
 * the same calendar day in London in every season: each seeded day is exactly one London day.
 */
const READING_HOURS = [9, 11, 13, 15]

/** A bin's fill at its k-th reading of a day: varied, deterministic, within 0–1. */
export const fillOf = (bin: number, day: number, k: number) => ((bin * 37 + day * 11 + k * 23) % 97) / 100

/** What the daily dataset should say of one bin-day. */
export function expectedDay(bin: number, day: number, readingsPerDay: number) {
  const fills = Array.from({ length: readingsPerDay }, (_, k) => fillOf(bin, day, k))
  return { mean: fills.reduce((a, b) => a + b, 0) / fills.length, max: Math.max(...fills), readings: fills.length }
}

/** Runs `work(i)` for i in [0, n) with at most `concurrency` at once. */
async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await work(next++)
    }),
  )
}

/** Provisions `n` bins with a name (with a comma, so CSV quoting is exercised) and a position, through the API. */
export async function provisionPlacedBins(
  apiUrl: string,
  token: string,
  n: number,
  prefix: string,
  site = 'streets',
): Promise<PlacedBin[]> {
  const width = String(n - 1).length
  const bins: PlacedBin[] = Array.from({ length: n }, (_, i) => ({
    // Zero-padded, so id order is index order.
    id: `${prefix}-${String(i).padStart(width, '0')}`,
    name: `Bin ${i}, High Street`,
    site,
    latitude: Math.round((51.4 + (i % 50) * 0.001) * 1e6) / 1e6,
    longitude: Math.round((-0.3 + Math.floor(i / 50) * 0.001) * 1e6) / 1e6,
  }))
  await pool(n, 16, async (i) => {
    const res = await fetch(`${apiUrl}/api/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...bins[i], type: 'bin' }),
    })
    if (res.status !== 201) throw new Error(`provision ${bins[i]!.id}: ${res.status} ${await res.text()}`)
  })
  return bins
}

export interface SeedOptions {
  /** Readings per day, at most READING_HOURS.length. */
  readingsPerDay: number
  batchLines?: number
  /** Batches in flight at once. */
  concurrency?: number
}

/**
 * Writes `days` days of fill readings from `firstDay` (a UTC/London day number) for every bin,
 * as the service's writer would (measurement `bin`, tags device_id and site, field fillingLevel
 * as a float), in batches of `batchLines` lines with precision=ms. Answers the points written.
 */
export async function writeDailyFills(
  influxUrl: string,
  db: string,
  bins: readonly PlacedBin[],
  firstDay: number,
  days: number,
  o: SeedOptions,
): Promise<number> {
  if (o.readingsPerDay < 1 || o.readingsPerDay > READING_HOURS.length) throw new Error(`readingsPerDay must be 1–${READING_HOURS.length}`)
  const batchLines = o.batchLines ?? 10_000
  const perBin = days * o.readingsPerDay
  const total = bins.length * perBin
  const batches = Math.ceil(total / batchLines)
  const prefixes = bins.map((b) => linePrefix('bin', { device_id: b.id, site: b.site }))
  // The body of batch j: points j*batchLines… in (bin, day, reading) order, so each series is written in time order.
  const body = (j: number) => {
    const lines: string[] = []
    for (let p = j * batchLines; p < Math.min(total, (j + 1) * batchLines); p++) {
      const bin = Math.floor(p / perBin)
      const rest = p % perBin
      const day = firstDay + Math.floor(rest / o.readingsPerDay)
      const k = rest % o.readingsPerDay
      lines.push(lineWith(prefixes[bin]!, { fillingLevel: fillOf(bin, day, k) }, day * DAY_MS + READING_HOURS[k]! * 3_600_000)!)
    }
    return lines.join('\n')
  }
  await pool(batches, o.concurrency ?? 2, async (j) => {
    const res = await fetch(`${influxUrl}/write?${new URLSearchParams({ db, precision: 'ms' })}`, { method: 'POST', body: body(j) })
    if (res.status !== 204) throw new Error(`influx write: ${res.status} ${await res.text()}`)
  })
  return total
}
