import { createHash } from 'node:crypto'
import {
  allowListed,
  type BinFillDailyRow,
  BinFillRow,
  compareKeys,
  type DatasetId,
  type Device,
  type DeviceState,
  EnergyDailyRow,
  EnergyHalfHourRow,
  halfHoursOfDay,
  isoDateOf,
  kwhAt,
  londonDayNumber,
  readingsPerDayRows,
  ServiceHealthRow,
  ServiceReadingsDailyRow,
  SLOT_MS,
  serviceHealthRows,
} from '#devices'
import { queryHalfHourly } from '../../influx/energy-half-hours.ts'
import { type InfluxQuery, ident, quote } from '../../influx/query.ts'
import type { Registry } from '../../store/registry.ts'
import type { ChangeClock } from './change-clock.ts'

export interface SourceDeps {
  registry: Registry
  state(device: Device): DeviceState
  influx: InfluxQuery
  changes: ChangeClock
}

/** [from, to) at London midnights, epoch ms. */
export interface Window {
  from: number
  to: number
}

/** One request's answer before a byte is written: what identifies it, and its rows on demand. */
export interface Prepared<Row> {
  /** Changes whenever the rows would: the ETag and Last-Modified are made from it. */
  version: string
  /** Batches of rows in key order, strictly after `after`; each batch is small, so memory stays flat. */
  rows(after: readonly string[] | null): AsyncIterable<readonly Row[]>
}

/** A served dataset: how its rows are ordered and fetched. Its fields are its DATASETS entry's schema. */
export interface Source<Row> {
  keyOf(row: Row): string[]
  keyParts: number
  /** History datasets: the window when none is asked for, in days back from tomorrow. Null: a snapshot. */
  defaultDays: number | null
  prepare(deps: SourceDeps, window: Window | null): Promise<Prepared<Row>>
  /** History datasets: the first and last instant there is data for (the catalogue's temporal coverage). */
  coverage?(deps: SourceDeps): Promise<{ start: number; end: number } | null>
}

const hash = (...parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 27)

/** What of a device the public rows show: a change to it changes the version. */
const placeOf = (d: Device) => [d.id, d.name, d.site, d.latitude, d.longitude]

/** An in-memory snapshot, sorted by key, served after a key. */
function snapshot<Row>(rows: Row[], keyOf: (r: Row) => string[]): Prepared<Row> {
  rows.sort((a, b) => compareKeys(keyOf(a), keyOf(b)))
  return {
    version: hash(rows),
    async *rows(after) {
      yield past(rows, keyOf, after)
    },
  }
}

/** Devices of a type in id order: a history's version is made from them, and its rows follow them. */
async function devicesOf(deps: SourceDeps, type: 'bin' | 'meter'): Promise<Device[]> {
  return (await deps.registry.devices.list({ type })).sort((a, b) => compareKeys([a.id], [b.id]))
}

/** The devices from the one a cursor stopped at (its rows may go on past the cursor). */
const from = (devices: readonly Device[], after: readonly string[] | null) => (after ? devices.filter((d) => d.id >= after[0]!) : devices)

/** The rows strictly after the cursor's key. */
const past = <Row>(rows: Row[], keyOf: (r: Row) => string[], after: readonly string[] | null) =>
  after ? rows.filter((r) => compareKeys(keyOf(r), after) > 0) : rows

/** The first and last point of a field, each from InfluxDB's index (two selector queries). */
async function extentOf(influx: InfluxQuery, measurement: string, field: string): Promise<{ start: number; end: number } | null> {
  const [first, last] = await Promise.all(
    ['first', 'last'].map((f) => influx.query(`SELECT ${f}(${ident(field)}) FROM ${ident(measurement)}`).then((r) => r[0]?.time)),
  )
  return first === undefined || last === undefined ? null : { start: first, end: last }
}

const binFillLatest: Source<BinFillRow> = {
  keyOf: (r) => [r.id],
  keyParts: 1,
  defaultDays: null,
  async prepare(deps) {
    const [bins, emptied] = await Promise.all([deps.registry.devices.list({ type: 'bin' }), deps.registry.rounds.lastCollections()])
    const raw = bins.map((bin) => {
      const latest = deps.state(bin).latest
      const fill = latest?.readings.fillingLevel
      const last = emptied.get(bin.id)
      // The device record carries more (its UPRN, presence…): only the allow-list lets fields through.
      return {
        ...bin,
        fillingLevel: typeof fill === 'number' ? fill : null,
        observedAt: typeof fill === 'number' && latest ? latest.ts : null,
        dateLastEmptying: last === undefined ? null : new Date(last).toISOString(),
      }
    })
    return snapshot(allowListed(BinFillRow, raw), this.keyOf)
  },
}

const binFillDaily: Source<BinFillDailyRow> = {
  keyOf: (r) => [r.id, r.date],
  keyParts: 2,
  defaultDays: 365,
  coverage: (deps) => extentOf(deps.influx, 'bin', 'fillingLevel'),
  async prepare(deps, window) {
    const w = window!
    const bins = await devicesOf(deps, 'bin')
    const keyOf = this.keyOf
    return {
      version: hash(
        'bin-fill-daily',
        w,
        deps.changes.changedAt('bin', w.from, w.to),
        deps.changes.changedAt('collection', w.from, w.to),
        bins.map(placeOf),
      ),
      async *rows(after) {
        // One bin's year per query, made into rows as the reply asks for them: each answer is gone
        // before the next is fetched, so nothing lives long enough to be kept by the garbage collector's
        // older generation (batches of bins made a year-long download grow the heap by twice as much).
        for (const bin of from(bins, after)) yield past(await binDays(deps, bin, w), keyOf, after)
      },
    }
  },
}

/**
 * Each bin's London days in the window: fill aggregated by InfluxDB (GROUP BY time(1d) in London),
 * emptyings from the store. Rows are built field by field as BinFillDailyRow declares them (the
 * allow-list by construction; the type admits no other key), not parsed again: a year of 2,000
 * bins is 730,000 rows, and a copy of each is what would make the stream's memory grow.
 */
async function binDays(deps: SourceDeps, bin: Device, w: Window): Promise<BinFillDailyRow[]> {
  const q =
    'SELECT mean("fillingLevel") AS "mean", max("fillingLevel") AS "max", count("fillingLevel") AS "n" FROM "bin" ' +
    `WHERE "device_id" = ${quote(bin.id)} AND time >= ${w.from}ms AND time < ${w.to}ms GROUP BY time(1d) fill(none) tz('Europe/London')`
  const [series, emptyings] = await Promise.all([deps.influx.series(q), deps.registry.rounds.collectionTimes([bin.id], w.from, w.to)])
  const out: BinFillDailyRow[] = []
  const s = series[0]
  if (!s) return out
  const emptied = new Map<string, number>()
  for (const c of emptyings) {
    const date = isoDateOf(londonDayNumber(c.at))
    emptied.set(date, (emptied.get(date) ?? 0) + 1)
  }
  const [t, mean, max, n] = ['time', 'mean', 'max', 'n'].map((c) => s.columns.indexOf(c))
  // InfluxDB answers in time order: the rows come out in (bin, date) order.
  for (const v of s.values) {
    const readings = v[n!]
    const m = v[mean!]
    const x = v[max!]
    const time = v[t!]
    if (typeof readings !== 'number' || readings < 1 || typeof m !== 'number' || typeof x !== 'number' || typeof time !== 'number') continue
    const date = isoDateOf(londonDayNumber(time))
    out.push({
      id: bin.id,
      name: bin.name,
      site: bin.site,
      latitude: bin.latitude,
      longitude: bin.longitude,
      date,
      // Fill is checked 0–1 at ingest; the clamp keeps a float's rounding inside the published range.
      fillingLevelMean: Math.min(1, Math.max(0, m)),
      fillingLevelMax: Math.min(1, Math.max(0, x)),
      readings,
      // A day with an emptying but no reading has no fill to publish; its emptying shows in the next day's drop.
      emptyings: emptied.get(date) ?? 0,
    })
  }
  return out
}

/** Each meter's half-hours in the window, from InfluxDB's 30-minute aggregates (as the energy view reads them). */
function meterSource<Row>(
  id: DatasetId,
  schema: typeof EnergyHalfHourRow | typeof EnergyDailyRow,
  keyOf: (r: Row) => string[],
  defaultDays: number,
  rowsOf: (meter: Device, series: Awaited<ReturnType<typeof queryHalfHourly>>, w: Window) => Record<string, unknown>[],
): Source<Row> {
  return {
    keyOf,
    keyParts: 2,
    defaultDays,
    coverage: (deps) => extentOf(deps.influx, 'meter', 'energyWh'),
    async prepare(deps, window) {
      const w = window!
      const meters = await devicesOf(deps, 'meter')
      // The bucket after the window closes its last half-hour, so a reading there changes the answer too.
      const changed = deps.changes.changedAt('meter', w.from, w.to + SLOT_MS)
      return {
        version: hash(id, w, changed, meters.map(placeOf)),
        async *rows(after) {
          for (const meter of from(meters, after)) {
            const series = await queryHalfHourly(deps.influx, meter.id, w.from, w.to)
            yield past(allowListed(schema, rowsOf(meter, series, w)) as Row[], keyOf, after)
          }
        },
      }
    },
  }
}

const building = (m: Device) => ({ buildingId: m.id, buildingName: m.name, site: m.site, latitude: m.latitude, longitude: m.longitude })

const energyHalfHourly = meterSource<EnergyHalfHourRow>(
  'energy-half-hourly',
  EnergyHalfHourRow,
  (r) => [r.buildingId, r.start],
  7,
  (meter, series) =>
    series.kwh.flatMap((kWh, i) =>
      kWh === null ? [] : [{ ...building(meter), start: new Date(series.from + i * SLOT_MS).toISOString(), kWh }],
    ),
)

const energyDaily = meterSource<EnergyDailyRow>(
  'energy-daily',
  EnergyDailyRow,
  (r) => [r.buildingId, r.date],
  365,
  (meter, series, w) => {
    const out: Record<string, unknown>[] = []
    for (let day = londonDayNumber(w.from); day < londonDayNumber(w.to); day++) {
      const slots = halfHoursOfDay(day)
      const known = slots.map((t) => kwhAt(series, t)).filter((k): k is number => k !== null)
      if (known.length === 0) continue
      const kWh = known.reduce((a, b) => a + b, 0)
      out.push({ ...building(meter), date: isoDateOf(day), kWh, halfHoursKnown: known.length, halfHoursInDay: slots.length })
    }
    return out
  },
)

const serviceHealth: Source<ServiceHealthRow> = {
  keyOf: (r) => [r.type, r.area],
  keyParts: 2,
  defaultDays: null,
  async prepare(deps) {
    const devices = [...(await deps.registry.devices.list({ type: 'bin' })), ...(await deps.registry.devices.list({ type: 'meter' }))]
    const rows = allowListed(ServiceHealthRow, serviceHealthRows(devices, await deps.registry.areas.list()))
    return snapshot(rows, this.keyOf)
  },
}

/** The field every reading of a counted type carries, so its count is the readings' count. */
const COUNTED_FIELD = { bin: 'fillingLevel', meter: 'energyWh' } as const

const serviceReadingsDaily: Source<ServiceReadingsDailyRow> = {
  keyOf: (r) => [r.type, r.area, r.date],
  keyParts: 3,
  defaultDays: 365,
  coverage: async (deps) => {
    const [bins, meters] = await Promise.all([extentOf(deps.influx, 'bin', 'fillingLevel'), extentOf(deps.influx, 'meter', 'energyWh')])
    if (!bins || !meters) return bins ?? meters
    return { start: Math.min(bins.start, meters.start), end: Math.max(bins.end, meters.end) }
  },
  async prepare(deps, window) {
    const w = window!
    // A few series (one per site and type) of one point a day: small enough to hold whole.
    const counts = await Promise.all(
      (['bin', 'meter'] as const).map(async (type) => {
        const q =
          `SELECT count(${ident(COUNTED_FIELD[type])}) AS "n" FROM ${ident(type)} WHERE time >= ${w.from}ms AND time < ${w.to}ms ` +
          `GROUP BY time(1d), "site" fill(none) tz('Europe/London')`
        return (await deps.influx.query(q)).map((p) => ({
          type,
          site: String(p.site),
          date: isoDateOf(londonDayNumber(p.time)),
          readings: typeof p.n === 'number' ? p.n : 0,
        }))
      }),
    )
    const rows = allowListed(ServiceReadingsDailyRow, readingsPerDayRows(counts.flat(), await deps.registry.areas.list()))
    return snapshot(rows, this.keyOf)
  },
}

export type AnySource = Source<Record<string, unknown>>
/** The route handles rows as records it hands to a format; each source keeps its own row type inside. */
const erased = <Row>(source: Source<Row>) => source as unknown as AnySource

/** Each dataset's one query; every format of it is written from these rows (D14). */
export const SOURCES: Record<DatasetId, AnySource> = {
  'bin-fill-latest': erased(binFillLatest),
  'bin-fill-daily': erased(binFillDaily),
  'energy-half-hourly': erased(energyHalfHourly),
  'energy-daily': erased(energyDaily),
  'service-health': erased(serviceHealth),
  'service-readings-daily': erased(serviceReadingsDaily),
}
