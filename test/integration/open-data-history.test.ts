import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCsv } from '../helpers/csv.ts'
import { acMeasurementValidator, errorsOf, geoJsonValidator, toKeyValues, wasteContainerValidator } from '../helpers/open-data-schemas.ts'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

/**
 * The history datasets (bin-fill-daily, energy-half-hourly, energy-daily) against the APIs a
 * signed-in user reads the same data from, and the public API's caching, paging, window and
 * rate-limit rules. Every reading is written straight to InfluxDB in line protocol, on days of
 * January 2026, when London is on UTC: a London day is a UTC day, so the expected figures can be
 * worked out here without the calendar code under test.
 */

const DAY = 86_400_000
const HOUR = 3_600_000
const SLOT = 30 * 60_000
/** The bin window: seven London days, `to` exclusive. */
const BIN_FROM = '2026-01-05'
const BIN_TO = '2026-01-12'
const T0 = Date.parse(`${BIN_FROM}T00:00:00Z`)
const BIN_WINDOW = `from=${BIN_FROM}&to=${BIN_TO}`
/** The energy window: three days. */
const ENERGY_FROM = '2026-01-05'
const ENERGY_TO = '2026-01-08'
const ENERGY_DAYS = ['2026-01-05', '2026-01-06', '2026-01-07']
const ENERGY_WINDOW = `from=${ENERGY_FROM}&to=${ENERGY_TO}`

interface Bin {
  id: string
  name: string
  latitude?: number
  longitude?: number
  /** Days after BIN_FROM with readings. */
  days: number[]
}
const BINS: Bin[] = [
  { id: 'hb-a', name: 'Bin A, "High" Street', latitude: 51.4012, longitude: -0.3051, days: [0, 1, 2, 3, 4, 5, 6] },
  // No reading on day 3, but emptied that day: no row (an emptying alone has no fill to publish).
  { id: 'hb-b', name: 'Bin B', latitude: 51.41, longitude: -0.31, days: [0, 1, 2, 4, 5, 6] },
  { id: 'hb-c', name: 'Bin C (no position)', days: [0, 1, 2, 3, 4, 5, 6] },
  { id: 'hb-d', name: 'Bin D', latitude: 51.42, longitude: -0.32, days: [4] },
]
/** 21 rows: limit=3 makes exactly 7 full pages, the last of which must carry no Link. */
const BIN_ROWS = BINS.reduce((n, b) => n + b.days.length, 0)
/** Emptyings recorded by a crew, each on a day (after BIN_FROM). */
const EMPTIED: { id: string; at: string; day: number }[] = [
  { id: 'hb-a', at: '2026-01-07T09:00:00.000Z', day: 2 },
  { id: 'hb-b', at: '2026-01-08T10:00:00.000Z', day: 3 },
  { id: 'hb-c', at: '2026-01-10T07:30:00.000Z', day: 5 },
]

/** A bin's readings on a day: 2–4 of them, at 01:15, 06:15, 11:15, 16:15 UTC (= London). */
function binReadings(binIndex: number, day: number): { ts: number; fill: number }[] {
  const n = 2 + ((day + binIndex) % 3)
  return Array.from({ length: n }, (_, j) => ({
    ts: T0 + day * DAY + (1 + j * 5) * HOUR + 15 * 60_000,
    fill: 0.05 + ((binIndex * 7 + day * 3 + j * 5) % 19) / 20,
  }))
}
const dateOf = (day: number) => new Date(T0 + day * DAY).toISOString().slice(0, 10)
/** The newest reading inside the bin window. */
const LAST_BIN_READING = Math.max(...BINS.flatMap((b, i) => b.days.flatMap((d) => binReadings(i, d).map((r) => r.ts))))

interface Meter {
  id: string
  name: string
  latitude?: number
  longitude?: number
  /** Readings on every half-hour in [from, to] (both ends), except in `missing`. */
  from: number
  to: number
  missing: number[]
  /** kW drawn in the half-hour starting at t. */
  kw(t: number): number
}
/** In building id order, the order of the rows. */
const METERS: Meter[] = [
  {
    id: 'hm-depot',
    name: 'Depot (no position)',
    from: Date.parse('2026-01-06T08:00:00Z'),
    to: Date.parse('2026-01-06T18:00:00Z'),
    missing: [],
    kw: (t) => 0.8 + ((t / SLOT) % 5) * 0.3,
  },
  {
    id: 'hm-hall',
    name: 'Town Hall',
    latitude: 51.409,
    longitude: -0.306,
    from: Date.parse('2026-01-05T06:00:00Z'),
    to: Date.parse('2026-01-08T00:00:00Z'),
    // Three reads missed: the register's rise over 10:00–12:00 is spread over its four half-hours.
    missing: ['10:30', '11:00', '11:30'].map((hm) => Date.parse(`2026-01-06T${hm}:00Z`)),
    kw: (t) => 1.5 + ((t / SLOT) % 11) * 0.4,
  },
]
const HALL = METERS.find((m) => m.id === 'hm-hall')!

/** The register (Wh) at each reading: it rises by kW × 500 Wh every half-hour, read or not. */
function meterReadings(m: Meter): { ts: number; wh: number }[] {
  const out: { ts: number; wh: number }[] = []
  let wh = 1_000_000
  for (let t = m.from; t <= m.to; t += SLOT) {
    if (!m.missing.includes(t)) out.push({ ts: t, wh })
    wh += m.kw(t) * 500
  }
  return out
}

/** CSV text as its header and its records keyed by column name. */
function csvRows(text: string): { header: string[]; rows: Record<string, string>[] } {
  const [header, ...records] = parseCsv(text)
  for (const r of records) expect(r).toHaveLength(header!.length)
  return { header: header!, rows: records.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!]))) }
}

interface Feature {
  type: string
  id: string
  geometry: { type: string; coordinates: number[] }
  properties: Record<string, unknown>
}
interface FeatureCollection {
  type: string
  features: Feature[]
}
interface ApiError {
  error: { code: string; message: string; hint: string }
}

const HISTORY = ['bin-fill-daily', 'energy-half-hourly', 'energy-daily'] as const
/** The formats each history dataset declares: building energy also as NGSI-LD (ACMeasurement), bin days not. */
const FORMATS_OF: Record<(typeof HISTORY)[number], readonly string[]> = {
  'bin-fill-daily': ['csv', 'geojson'],
  'energy-half-hourly': ['csv', 'geojson', 'jsonld'],
  'energy-daily': ['csv', 'geojson', 'jsonld'],
}

/** An NGSI-LD normalized attribute, as the ACMeasurement entities carry them. */
interface Attr {
  type: 'Property' | 'GeoProperty' | 'Relationship'
  value?: unknown
  object?: unknown
  observedAt?: string
  unitCode?: string
}
/** An ACMeasurement entity as the energy datasets write it. */
interface Entity {
  id: string
  type: string
  '@context': string[]
  name: Attr
  dateObserved: Attr
  dateObservedFrom: Attr
  dateObservedTo: Attr
  dateEnergyMeteringStarted: Attr
  totalActiveEnergyImport: Attr
  phaseType: Attr
  refDevice: Attr
  location: Attr
}
const ENERGY_CONTEXTS = [
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Energy/master/context.jsonld',
  'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld',
]
/** A DateTime attribute's instant. */
const when = (a: Attr) => {
  expect(a).toMatchObject({ type: 'Property', value: { '@type': 'DateTime' } })
  return (a.value as { '@value': string })['@value']
}
/** The period, its observation and its metering start of an entity, in that order. */
const timesOf = (e: Entity) => [e.dateObservedFrom, e.dateObservedTo, e.dateObserved, e.dateEnergyMeteringStarted].map(when)

describe('open data history datasets: daily bin fill and building energy, paged, cached and limited (issue 13)', () => {
  let svc: TestService
  const open = (path: string, headers: Record<string, string> = {}) => fetch(`${svc.url}${path}`, { headers })
  const text = async (path: string) => {
    const res = await open(path)
    const body = await res.text()
    expect(res.status, `${path}: ${body}`).toBe(200)
    return body
  }
  const refusal = async (path: string, status = 400) => {
    const res = await open(path)
    const body = await res.text()
    expect(res.status, `${path}: ${body}`).toBe(status)
    return JSON.parse(body) as ApiError
  }
  const writeLines = async (lines: string[]) => {
    const res = await fetch(`${svc.influxUrl}/write?db=${svc.db}&precision=ms`, { method: 'POST', body: lines.join('\n') })
    expect(res.status, await res.text()).toBe(204)
  }
  const binLine = (id: string, ts: number, fill: number) => `bin,device_id=${id},site=town fillingLevel=${fill} ${ts}`
  const collect = async (id: string, at: string) => {
    const res = await svc.api(`/api/bins/${id}/collections`, { method: 'POST', body: JSON.stringify({ at }) })
    expect(res.status, await res.clone().text()).toBe(201)
  }
  const publish = async (id: string) => {
    const res = await svc.api(`/api/open-data/datasets/${id}`, { method: 'PUT', body: JSON.stringify({ published: true }) })
    expect(res.status, await res.clone().text()).toBe(200)
  }

  /**
   * A device's reading the way devices send them, over MQTT through ingest, the log and the
   * InfluxDB writer (the history is seeded straight into InfluxDB; changes must come the real way,
   * as the service learns of them from its own writer). Resolves once InfluxDB holds it and the
   * writer has counted it as written: the change clock is moved again when a write lands (in the
   * same callback as the counter), and an answer taken between the two is rightly out of date at once.
   */
  const written = async () => Number(/^sp_influx_points_written_total (\d+)$/m.exec(await (await svc.api('/metrics')).text())?.[1] ?? 0)
  const send = async (id: string, ts: number, readings: Record<string, unknown>) => {
    const d = devices.get(id)!
    const before = await written()
    const client = await connectDevice(svc.mqttUrl, d.id, d.secret)
    await client.publishAsync(telemetryTopic(d), JSON.stringify({ ts, readings }), { qos: 1 })
    await client.endAsync()
    await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, d.type, `"device_id" = '${id}' AND time = ${ts}ms`)) === 1)
    await waitFor(async () => (await written()) > before)
  }
  const sendFill = (id: string, ts: number, fillingLevel: number) =>
    send(id, ts, { fillingLevel, temperature: 9, batteryPct: 80, tilted: false })
  const devices = new Map<string, { id: string; secret: string; site: string; type: string }>()

  beforeAll(async () => {
    // Readings of January are accepted late (a device catching up after months offline), as these tests send some.
    svc = await startService({ TIME_LATE_S: String(400 * 86_400) })
    for (const b of BINS)
      devices.set(
        b.id,
        await svc.provision({ id: b.id, type: 'bin', name: b.name, site: 'town', latitude: b.latitude, longitude: b.longitude }),
      )
    for (const m of METERS)
      devices.set(
        m.id,
        await svc.provision({ id: m.id, type: 'meter', name: m.name, site: 'civic', latitude: m.latitude, longitude: m.longitude }),
      )
    const lines = BINS.flatMap((b, i) => b.days.flatMap((d) => binReadings(i, d).map((r) => binLine(b.id, r.ts, r.fill))))
    // Just outside the window on either side (`to` is exclusive): neither may count.
    lines.push(binLine('hb-a', T0 - SLOT, 0.99), binLine('hb-a', T0 + 7 * DAY, 0.01))
    for (const m of METERS) for (const r of meterReadings(m)) lines.push(`meter,device_id=${m.id},site=civic energyWh=${r.wh} ${r.ts}`)
    await writeLines(lines)
    // Emptyings go through the crew's API, as a crew marks a bin collected.
    for (const e of EMPTIED) await collect(e.id, e.at)
  })
  afterAll(() => svc?.close())

  describe('issue 13, acceptance 1: off by default; once published, listed in /open and agreeing with the readings and energy APIs', () => {
    it('answers 404 DATASET_NOT_PUBLISHED on every format of every history dataset while it is off, whatever the query', async () => {
      for (const id of HISTORY) {
        for (const format of FORMATS_OF[id]) {
          for (const query of ['', `?${BIN_WINDOW}`, '?limit=3']) {
            const body = await refusal(`/open/${id}.${format}${query}`, 404)
            expect(body.error.code).toBe('DATASET_NOT_PUBLISHED')
          }
        }
      }
      // Offered in no format that the dataset does not declare.
      expect((await open('/open/bin-fill-daily.jsonld')).status).toBe(404)
      const cat = (await (await open('/open')).json()) as { 'dcat:dataset': unknown[] }
      expect(cat['dcat:dataset']).toEqual([])
    })

    it('once published, lists each in /open by its identifier, with a distribution per declared format', async () => {
      for (const id of HISTORY) await publish(id)
      const cat = (await (await open('/open')).json()) as {
        'dcat:dataset': { 'dct:identifier': string; 'dcat:distribution': { 'dcat:downloadURL': { '@id': string } }[] }[]
      }
      expect(cat['dcat:dataset'].map((d) => d['dct:identifier'])).toEqual([...HISTORY])
      for (const d of cat['dcat:dataset']) {
        const paths = d['dcat:distribution'].map((x) => new URL(x['dcat:downloadURL']['@id']).pathname)
        const id = d['dct:identifier'] as (typeof HISTORY)[number]
        expect(paths).toEqual(FORMATS_OF[id].map((f) => `/open/${id}.${f}`))
      }
      // Still none for the bin days after publishing: a route exists only for a declared format.
      expect((await open(`/open/bin-fill-daily.jsonld?${BIN_WINDOW}`)).status).toBe(404)
    })

    it('bin-fill-daily: CSV and GeoJSON agree with each other, with the readings API (daily mean), the points counted and the emptyings', async () => {
      const csvText = await text(`/open/bin-fill-daily.csv?${BIN_WINDOW}`)
      const { header, rows } = csvRows(csvText)
      expect(header).toEqual([
        'id',
        'name',
        'site',
        'latitude',
        'longitude',
        'date',
        'fillingLevelMean',
        'fillingLevelMax',
        'readings',
        'emptyings',
      ])
      // Ordered by bin, then day; a day with no reading (hb-b on day 3, though emptied) has no row.
      expect(rows.map((r) => `${r.id} ${r.date}`)).toEqual(BINS.flatMap((b) => b.days.map((d) => `${b.id} ${dateOf(d)}`)))

      // Against the figures the test wrote, worked out here.
      BINS.forEach((b, i) => {
        for (const d of b.days) {
          const row = rows.find((r) => r.id === b.id && r.date === dateOf(d))!
          const rs = binReadings(i, d)
          expect(row.name).toBe(b.name)
          expect(row.site).toBe('town')
          expect(row.latitude).toBe(b.latitude === undefined ? '' : String(b.latitude))
          expect(row.longitude).toBe(b.longitude === undefined ? '' : String(b.longitude))
          expect(Number(row.fillingLevelMean)).toBeCloseTo(rs.reduce((s, r) => s + r.fill, 0) / rs.length, 9)
          expect(Number(row.fillingLevelMax)).toBe(Math.max(...rs.map((r) => r.fill)))
          expect(Number(row.readings)).toBe(rs.length)
          expect(Number(row.emptyings)).toBe(EMPTIED.filter((e) => e.id === b.id && e.day === d).length)
        }
      })

      // Against the readings API's daily means on the same window, and InfluxDB's own count of points.
      for (const b of BINS) {
        const res = await svc.api(
          `/api/devices/${b.id}/readings?from=${BIN_FROM}T00:00:00.000Z&to=${new Date(T0 + 7 * DAY - 1).toISOString()}&every=1d`,
        )
        expect(res.status).toBe(200)
        const points = ((await res.json()) as { points: { time: string; fillingLevel: number | null }[] }).points.filter(
          (p) => p.fillingLevel !== null,
        )
        const mine = rows.filter((r) => r.id === b.id)
        expect(mine.map((r) => r.date)).toEqual(points.map((p) => p.time.slice(0, 10)))
        for (const [k, r] of mine.entries()) expect(Number(r.fillingLevelMean)).toBeCloseTo(points[k]!.fillingLevel!, 9)
        const counted = await countPoints(
          svc.influxUrl,
          svc.db,
          'bin',
          `"device_id" = '${b.id}' AND time >= '${BIN_FROM}T00:00:00Z' AND time < '${BIN_TO}T00:00:00Z'`,
        )
        expect(mine.reduce((n, r) => n + Number(r.readings), 0)).toBe(counted)
      }

      // GeoJSON: the same rows, those with a position only, as [longitude, latitude].
      const geo = JSON.parse(await text(`/open/bin-fill-daily.geojson?${BIN_WINDOW}`)) as FeatureCollection
      expect(geo.type).toBe('FeatureCollection')
      const placed = rows.filter((r) => r.latitude !== '')
      expect(placed.length).toBeLessThan(rows.length)
      expect(geo.features.map((f) => f.id)).toEqual(placed.map((r) => `${r.id}/${r.date}`))
      expect(geo.features.some((f) => f.id.startsWith('hb-c/'))).toBe(false)
      for (const [k, f] of geo.features.entries()) {
        const r = placed[k]!
        const bin = BINS.find((b) => b.id === r.id)!
        expect(f.type).toBe('Feature')
        expect(f.geometry).toEqual({ type: 'Point', coordinates: [bin.longitude, bin.latitude] })
        expect(f.properties).toEqual({
          id: r.id,
          name: r.name,
          site: r.site,
          date: r.date,
          fillingLevelMean: Number(r.fillingLevelMean),
          fillingLevelMax: Number(r.fillingLevelMax),
          readings: Number(r.readings),
          emptyings: Number(r.emptyings),
        })
      }
    })

    /** Each meter's half-hours per day from the building API (the energy view), as the signed-in energy manager sees them. */
    const buildingDays = async () => {
      const out = new Map<string, { start: string; kwh: number | null }[]>()
      for (const m of METERS) {
        for (const day of ENERGY_DAYS) {
          const res = await svc.api(`/api/energy/buildings/${m.id}?day=${day}`)
          expect(res.status, await res.clone().text()).toBe(200)
          const body = (await res.json()) as { day: string; halfHours: { start: string; kwh: number | null }[] }
          expect(body.day).toBe(day)
          out.set(`${m.id} ${day}`, body.halfHours)
        }
      }
      return out
    }

    it('energy-half-hourly: CSV and GeoJSON agree with each other and with the building API half-hours, to 1e-6 kWh', async () => {
      const api = await buildingDays()
      const { header, rows } = csvRows(await text(`/open/energy-half-hourly.csv?${ENERGY_WINDOW}`))
      expect(header).toEqual(['buildingId', 'buildingName', 'site', 'latitude', 'longitude', 'start', 'kWh'])
      // Every known half-hour of the API, and no other, in (building, start) order.
      const known = METERS.flatMap((m) =>
        ENERGY_DAYS.flatMap((day) =>
          api
            .get(`${m.id} ${day}`)!
            .filter((s) => s.kwh !== null)
            .map((s) => ({ id: m.id, start: s.start, kwh: s.kwh! })),
        ),
      )
      expect(rows.map((r) => `${r.buildingId} ${r.start}`)).toEqual(known.map((k) => `${k.id} ${k.start}`))
      for (const [i, k] of known.entries()) expect(Number(rows[i]!.kWh)).toBeCloseTo(k.kwh, 6)
      // 06:00 on the 5th to 23:30 on the 7th for the hall (its 00:00 reading on the 8th closes the last half-hour);
      // the depot's 08:00–18:00 on the 6th (its last half-hour, with nothing after it, is a known 0).
      expect(rows.filter((r) => r.buildingId === 'hm-hall')).toHaveLength(36 + 48 + 48)
      expect(rows.filter((r) => r.buildingId === 'hm-depot')).toHaveLength(21)
      expect(rows.find((r) => r.buildingId === 'hm-hall')!.start).toBe('2026-01-05T06:00:00.000Z')
      for (const r of rows) {
        const m = METERS.find((x) => x.id === r.buildingId)!
        expect([r.buildingName, r.site]).toEqual([m.name, 'civic'])
      }
      // The meter's own arithmetic: a read half-hour is kW / 2; the three missed reads spread the rise evenly.
      const at = (id: string, iso: string) => Number(rows.find((r) => r.buildingId === id && r.start === iso)!.kWh)
      expect(at('hm-hall', '2026-01-07T13:00:00.000Z')).toBeCloseTo(HALL.kw(Date.parse('2026-01-07T13:00:00Z')) / 2, 6)
      const gap = [0, 1, 2, 3].map((k) => HALL.kw(Date.parse('2026-01-06T10:00:00Z') + k * SLOT) / 2)
      for (const k of [0, 1, 2, 3])
        expect(at('hm-hall', new Date(Date.parse('2026-01-06T10:00:00Z') + k * SLOT).toISOString())).toBeCloseTo(
          gap.reduce((s, x) => s + x, 0) / 4,
          6,
        )

      const geo = JSON.parse(await text(`/open/energy-half-hourly.geojson?${ENERGY_WINDOW}`)) as FeatureCollection
      const placed = rows.filter((r) => r.buildingId === 'hm-hall')
      expect(geo.features.map((f) => f.id)).toEqual(placed.map((r) => `${r.buildingId}/${r.start}`))
      for (const [k, f] of geo.features.entries()) {
        const r = placed[k]!
        expect(f.geometry).toEqual({ type: 'Point', coordinates: [HALL.longitude, HALL.latitude] })
        expect(f.properties).toEqual({
          buildingId: r.buildingId,
          buildingName: r.buildingName,
          site: r.site,
          start: r.start,
          kWh: Number(r.kWh),
        })
      }

      // NGSI-LD: the same placed rows as ACMeasurement entities (location is required, as in GeoJSON).
      const res = await open(`/open/energy-half-hourly.jsonld?${ENERGY_WINDOW}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^application\/ld\+json/)
      const entities = (await res.json()) as Entity[]
      expect(entities.map((e) => e.id)).toEqual(placed.map((r) => `urn:ngsi-ld:ACMeasurement:${r.buildingId}:PT30M:${r.start}`))
      for (const [k, e] of entities.entries()) {
        const r = placed[k]!
        const end = new Date(Date.parse(r.start!) + SLOT).toISOString()
        expect([e.type, e['@context']]).toEqual(['ACMeasurement', ENERGY_CONTEXTS])
        expect(e.name).toEqual({ type: 'Property', value: r.buildingName })
        // The half-hour, observed at its end; the import is counted from its start, so it is the half-hour's kWh.
        expect(timesOf(e)).toEqual([r.start, end, end, r.start])
        expect(e.totalActiveEnergyImport).toEqual({ type: 'Property', value: Number(r.kWh), unitCode: 'KWH', observedAt: end })
        expect(e.phaseType).toEqual({ type: 'Property', value: 'threePhase' })
        expect(e.refDevice).toEqual({ type: 'Relationship', object: [`urn:ngsi-ld:Device:${r.buildingId}`] })
        expect(e.location).toEqual({ type: 'GeoProperty', value: { type: 'Point', coordinates: [HALL.longitude, HALL.latitude] } })
      }
      // And straight against the building API's half-hours, not only through the CSV.
      const hall = known.filter((k) => k.id === 'hm-hall')
      expect(entities.map((e) => when(e.dateObservedFrom))).toEqual(hall.map((k) => k.start))
      for (const [k, e] of entities.entries()) expect(e.totalActiveEnergyImport.value as number).toBeCloseTo(hall[k]!.kwh, 6)

      // Paged by rows, as every format: the depot's 21 rows give no entity, so the first page holds 79, and the two pages the whole.
      const first = await open(`/open/energy-half-hourly.jsonld?${ENERGY_WINDOW}&limit=100`)
      const next = /^<(\/open\/[^>]+)>; rel="next"$/.exec(first.headers.get('link') ?? '')
      expect(next, String(first.headers.get('link'))).not.toBeNull()
      const second = await open(next![1]!)
      expect(second.headers.get('link')).toBeNull()
      const pages = [(await first.json()) as Entity[], (await second.json()) as Entity[]]
      expect(pages.map((p) => p.length)).toEqual([79, 53])
      expect(pages.flat()).toEqual(entities)
    })

    it("energy-daily: each day's kWh is the sum of that day's half-hours in the building API, with how many are known", async () => {
      const api = await buildingDays()
      const { header, rows } = csvRows(await text(`/open/energy-daily.csv?${ENERGY_WINDOW}`))
      expect(header).toEqual([
        'buildingId',
        'buildingName',
        'site',
        'latitude',
        'longitude',
        'date',
        'kWh',
        'halfHoursKnown',
        'halfHoursInDay',
      ])
      const expected = METERS.flatMap((m) =>
        ENERGY_DAYS.flatMap((day) => {
          const slots = api.get(`${m.id} ${day}`)!
          const known = slots.filter((s) => s.kwh !== null).map((s) => s.kwh!)
          return known.length === 0
            ? []
            : [{ id: m.id, date: day, kwh: known.reduce((a, b) => a + b, 0), known: known.length, inDay: slots.length }]
        }),
      )
      expect(rows.map((r) => `${r.buildingId} ${r.date}`)).toEqual(expected.map((e) => `${e.id} ${e.date}`))
      expected.forEach((e, i) => {
        const r = rows[i]!
        expect(Number(r.kWh)).toBeCloseTo(e.kwh, 6)
        expect(Number(r.halfHoursKnown)).toBe(e.known)
        expect(Number(r.halfHoursInDay)).toBe(e.inDay)
      })
      // And by the generator's arithmetic: the hall's whole 7th is the sum of its 48 half-hours' kW / 2; a winter day has 48.
      let seventh = 0
      for (let t = Date.parse('2026-01-07T00:00:00Z'); t < Date.parse('2026-01-08T00:00:00Z'); t += SLOT) seventh += HALL.kw(t) / 2
      const row7 = rows.find((r) => r.buildingId === 'hm-hall' && r.date === '2026-01-07')!
      expect(Number(row7.kWh)).toBeCloseTo(seventh, 6)
      expect([row7.halfHoursKnown, row7.halfHoursInDay]).toEqual(['48', '48'])
      expect(rows.find((r) => r.buildingId === 'hm-hall' && r.date === '2026-01-05')!.halfHoursKnown).toBe('36')

      const geo = JSON.parse(await text(`/open/energy-daily.geojson?${ENERGY_WINDOW}`)) as FeatureCollection
      expect(geo.features.map((f) => f.id)).toEqual(rows.filter((r) => r.latitude !== '').map((r) => `${r.buildingId}/${r.date}`))
      expect(geo.features.map((f) => f.id)).toEqual(ENERGY_DAYS.map((d) => `hm-hall/${d}`))
      for (const f of geo.features) {
        const r = rows.find((x) => `${x.buildingId}/${x.date}` === f.id)!
        expect(f.geometry.coordinates).toEqual([HALL.longitude, HALL.latitude])
        expect(f.properties.kWh).toBe(Number(r.kWh))
        expect(f.properties.halfHoursKnown).toBe(Number(r.halfHoursKnown))
      }

      // NGSI-LD: an ACMeasurement per placed building-day, its kWh the CSV's and the API half-hours' sum.
      const res = await open(`/open/energy-daily.jsonld?${ENERGY_WINDOW}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^application\/ld\+json/)
      const entities = (await res.json()) as Entity[]
      expect(entities.map((e) => e.id)).toEqual(ENERGY_DAYS.map((d) => `urn:ngsi-ld:ACMeasurement:hm-hall:P1D:${d}`))
      for (const [k, e] of entities.entries()) {
        const day = ENERGY_DAYS[k]!
        const r = rows.find((x) => x.buildingId === 'hm-hall' && x.date === day)!
        // January: London is on UTC, so the London day is midnight to midnight UTC.
        const [from, to] = [`${day}T00:00:00.000Z`, new Date(Date.parse(`${day}T00:00:00Z`) + DAY).toISOString()]
        expect([e.type, e['@context']]).toEqual(['ACMeasurement', ENERGY_CONTEXTS])
        expect(e.name).toEqual({ type: 'Property', value: HALL.name })
        expect(timesOf(e)).toEqual([from, to, to, from])
        expect(e.totalActiveEnergyImport).toEqual({ type: 'Property', value: Number(r.kWh), unitCode: 'KWH', observedAt: to })
        expect(e.totalActiveEnergyImport.value as number).toBeCloseTo(expected.find((x) => x.id === 'hm-hall' && x.date === day)!.kwh, 6)
        expect(e.phaseType).toEqual({ type: 'Property', value: 'threePhase' })
        expect(e.refDevice).toEqual({ type: 'Relationship', object: ['urn:ngsi-ld:Device:hm-hall'] })
        expect(e.location).toEqual({ type: 'GeoProperty', value: { type: 'Point', coordinates: [HALL.longitude, HALL.latitude] } })
      }
    })
  })

  describe('issue 13, acceptance 3: the bodies served hold to the shipped RFC 7946 and Smart Data Models schemas', () => {
    const geoJson = geoJsonValidator()
    const acMeasurement = acMeasurementValidator()

    it('serves GeoJSON of bin days and of building energy (whole and paged) that the RFC 7946 FeatureCollection schema accepts', async () => {
      const bodies = [
        `/open/bin-fill-daily.geojson?${BIN_WINDOW}`,
        `/open/bin-fill-daily.geojson?${BIN_WINDOW}&limit=3`,
        `/open/energy-half-hourly.geojson?${ENERGY_WINDOW}`,
        `/open/energy-half-hourly.geojson?${ENERGY_WINDOW}&limit=50`,
        `/open/energy-daily.geojson?${ENERGY_WINDOW}`,
      ]
      for (const path of bodies) {
        const res = await open(path)
        expect(res.headers.get('content-type'), path).toMatch(/^application\/geo\+json/)
        const geo = JSON.parse(await res.text()) as FeatureCollection
        expect(geo.features.length, path).toBeGreaterThan(0)
        expect({ path, errors: errorsOf(geoJson, geo) }).toEqual({ path, errors: [] })
        // The schema reads these very features: one moved off the globe (longitude 200) is refused.
        const swapped = structuredClone(geo)
        swapped.features[0]!.geometry.coordinates = [200, 51.4]
        expect(geoJson(swapped), path).toBe(false)
      }
    })

    it('serves energy NGSI-LD whose every entity, in key-values form, the shipped ACMeasurement schema accepts', async () => {
      for (const path of [`/open/energy-half-hourly.jsonld?${ENERGY_WINDOW}`, `/open/energy-daily.jsonld?${ENERGY_WINDOW}`]) {
        const entities = JSON.parse(await text(path)) as Record<string, unknown>[]
        expect(entities.length, path).toBeGreaterThan(0)
        for (const e of entities) {
          const kv = toKeyValues(e)
          expect({ id: kv.id, errors: errorsOf(acMeasurement, kv) }).toEqual({ id: kv.id, errors: [] })
        }
        expect(acMeasurement({ ...toKeyValues(entities[0]!), totalActiveEnergyImport: -1 }), path).toBe(false)
      }
    })
  })

  describe('issue 13, acceptance 5: clear refusals, stable paging, conditional requests, and a per-address rate limit', () => {
    it('refuses a page over 5,000 rows with PAGE_SIZE_TOO_LARGE, saying what to do instead; 5,000 itself is served', async () => {
      const body = await refusal(`/open/bin-fill-daily.csv?${BIN_WINDOW}&limit=5001`)
      expect(body.error.code).toBe('PAGE_SIZE_TOO_LARGE')
      expect(body.error.message).toMatch(/5000|5,000/)
      expect(body.error.message).toMatch(/Link/)
      expect(body.error.message).toMatch(/leave limit out/)
      expect(body.error.hint.length).toBeGreaterThan(0)
      const res = await open(`/open/bin-fill-daily.csv?${BIN_WINDOW}&limit=5000`)
      expect(res.status).toBe(200)
      expect(res.headers.get('link')).toBeNull()
      expect(csvRows(await res.text()).rows).toHaveLength(BIN_ROWS)
    })

    it('refuses a cursor it did not give out with BAD_CURSOR: junk, a snapshot’s key, a tampered key', async () => {
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
      for (const cursor of ['not-a-cursor!', b64(['hb-a']), b64({ id: 'hb-a' }), b64(['hb-a', 7])]) {
        const body = await refusal(`/open/bin-fill-daily.csv?${BIN_WINDOW}&limit=3&cursor=${encodeURIComponent(cursor)}`)
        expect(body.error.code, cursor).toBe('BAD_CURSOR')
      }
    })

    it('refuses a window with from not before to, or over 400 days, with BAD_WINDOW; exactly 400 days is served', async () => {
      for (const q of [`from=${BIN_TO}&to=${BIN_FROM}`, `from=${BIN_FROM}&to=${BIN_FROM}`, 'from=2025-01-01&to=2026-02-06']) {
        const body = await refusal(`/open/bin-fill-daily.csv?${q}`)
        expect(body.error.code, q).toBe('BAD_WINDOW')
      }
      // 2025-01-01 + 400 days = 2026-02-05: served, and its days of the 3-day window are that window's rows.
      const wide = csvRows(await text('/open/energy-daily.csv?from=2025-01-01&to=2026-02-05')).rows
      const narrow = csvRows(await text(`/open/energy-daily.csv?${ENERGY_WINDOW}`)).rows
      expect(wide.filter((r) => ENERGY_DAYS.includes(r.date!))).toEqual(narrow)
    })

    it('refuses from or to that is not a date with BAD_WINDOW', async () => {
      for (const q of ['from=2026-02-30', 'from=yesterday', `from=${BIN_FROM}&to=2026-1-12`]) {
        const body = await refusal(`/open/energy-half-hourly.csv?${q}`)
        expect(body.error.code, q).toBe('BAD_WINDOW')
      }
    })

    it('refuses from and to on the latest-state dataset bin-fill-latest with 400', async () => {
      await publish('bin-fill-latest')
      expect((await open('/open/bin-fill-latest.csv')).status).toBe(200)
      for (const q of [`from=${BIN_FROM}`, `to=${BIN_TO}`, BIN_WINDOW]) {
        const body = await refusal(`/open/bin-fill-latest.csv?${q}`)
        expect(body.error.code, q).toBe('BAD_REQUEST')
        expect(body.error.message).toMatch(/from or to/)
      }
    })

    it('walks limit=3 pages by their Link rel="next" to exactly the unpaged rows, each once, in order; the last page has no Link', async () => {
      const walk = async (first: string) => {
        const pages: string[] = []
        let next: string | null = first
        while (next) {
          expect(pages.length, 'too many pages').toBeLessThan(20)
          const res = await open(next)
          const body = await res.text()
          expect(res.status, body).toBe(200)
          pages.push(body)
          const link = res.headers.get('link')
          if (link === null) next = null
          else {
            const m = /^<(\/open\/[^>]+)>; rel="next"$/.exec(link)
            expect(m, link).not.toBeNull()
            // The next page asks the same question: same window, same limit.
            const u = new URL(m![1]!, svc.url)
            expect([u.searchParams.get('from'), u.searchParams.get('to'), u.searchParams.get('limit')]).toEqual([BIN_FROM, BIN_TO, '3'])
            next = m![1]!
          }
        }
        return pages
      }

      const whole = csvRows(await text(`/open/bin-fill-daily.csv?${BIN_WINDOW}`))
      expect(whole.rows).toHaveLength(BIN_ROWS)
      const pages = (await walk(`/open/bin-fill-daily.csv?${BIN_WINDOW}&limit=3`)).map(csvRows)
      expect(pages).toHaveLength(BIN_ROWS / 3)
      for (const p of pages) {
        expect(p.header).toEqual(whole.header)
        expect(p.rows).toHaveLength(3)
      }
      const walked = pages.flatMap((p) => p.rows)
      expect(new Set(walked.map((r) => `${r.id} ${r.date}`)).size).toBe(walked.length)
      expect(walked).toEqual(whole.rows)

      // GeoJSON pages the same rows: its features, page after page, are the whole download's.
      const geoWhole = JSON.parse(await text(`/open/bin-fill-daily.geojson?${BIN_WINDOW}`)) as FeatureCollection
      const geoPages = (await walk(`/open/bin-fill-daily.geojson?${BIN_WINDOW}&limit=3`)).map((t) => JSON.parse(t) as FeatureCollection)
      expect(geoPages).toHaveLength(BIN_ROWS / 3)
      for (const p of geoPages) expect(p.type).toBe('FeatureCollection')
      expect(geoPages.flatMap((p) => p.features)).toEqual(geoWhole.features)
    })

    const binCsv = `/open/bin-fill-daily.csv?${BIN_WINDOW}`
    const headersOf = async (path: string, h: Record<string, string> = {}) => {
      const res = await open(path, h)
      return { status: res.status, etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified'), body: await res.text() }
    }

    it('answers If-None-Match with the ETag, and If-Modified-Since with Last-Modified, by 304; anything older by 200', async () => {
      const first = await headersOf(binCsv)
      expect(first.status).toBe(200)
      expect(first.etag).toMatch(/^W\/"[A-Za-z0-9_-]+"$/)
      // No earlier than the newest reading in the window, and no later than now.
      expect(Date.parse(first.lastModified!)).toBeGreaterThanOrEqual(Math.floor(LAST_BIN_READING / 1000) * 1000)
      expect(Date.parse(first.lastModified!)).toBeLessThanOrEqual(Date.now())
      expect((await open(binCsv)).headers.get('cache-control')).toBe('public, max-age=60')
      expect((await headersOf(binCsv)).etag).toBe(first.etag)
      // Another format, window or page is another resource.
      expect((await headersOf(`/open/bin-fill-daily.geojson?${BIN_WINDOW}`)).etag).not.toBe(first.etag)
      expect((await headersOf(`/open/bin-fill-daily.csv?from=${BIN_FROM}&to=2026-01-11`)).etag).not.toBe(first.etag)

      const inm = await headersOf(binCsv, { 'if-none-match': first.etag! })
      expect([inm.status, inm.body, inm.etag]).toEqual([304, '', first.etag])
      expect((await headersOf(binCsv, { 'if-none-match': `"other", ${first.etag}` })).status).toBe(304)
      expect((await headersOf(binCsv, { 'if-none-match': 'W/"not-this-one"' })).status).toBe(200)

      const ims = await headersOf(binCsv, { 'if-modified-since': first.lastModified! })
      expect([ims.status, ims.body]).toEqual([304, ''])
      const older = new Date(Date.parse(first.lastModified!) - 1000).toUTCString()
      const changed = await headersOf(binCsv, { 'if-modified-since': older })
      expect(changed.status).toBe(200)
      expect(changed.body).toBe(first.body)
      // If-None-Match wins over If-Modified-Since when both are sent.
      expect((await headersOf(binCsv, { 'if-none-match': '"stale"', 'if-modified-since': first.lastModified! })).status).toBe(200)
    })

    it('changes the ETag when a new reading arrives in the window (200 again), and not for one outside it', async () => {
      const before = await headersOf(binCsv)
      const at = Date.parse('2026-01-11T22:00:00Z')
      await sendFill('hb-a', at, 0.5)
      const after = await headersOf(binCsv, { 'if-none-match': before.etag! })
      expect(after.status).toBe(200)
      expect(after.etag).not.toBe(before.etag)
      expect(Date.parse(after.lastModified!)).toBeGreaterThanOrEqual(at)
      const row = csvRows(after.body).rows.find((r) => r.id === 'hb-a' && r.date === '2026-01-11')!
      expect(Number(row.readings)).toBe(binReadings(0, 6).length + 1)
      expect((await headersOf(binCsv, { 'if-none-match': after.etag! })).status).toBe(304)

      // A reading on a day after the window leaves this window's answer, and its ETag, as they were.
      await sendFill('hb-b', Date.parse('2026-01-20T10:00:00Z'), 0.3)
      expect((await headersOf(binCsv, { 'if-none-match': after.etag! })).status).toBe(304)
    })

    it('changes the ETag when a late reading (older than the newest) arrives in the window, as the rows change', async () => {
      const before = await headersOf(binCsv)
      // Last-Modified has whole seconds: the change comes in a later second than the answer the client holds.
      await new Promise((r) => setTimeout(r, 1100))
      // A bin that was offline sends its buffered reading: older than the newest point in the window.
      await sendFill('hb-b', Date.parse('2026-01-06T03:00:00Z'), 0.7)
      const after = await headersOf(binCsv, { 'if-none-match': before.etag! })
      const row = (body: string) => csvRows(body).rows.find((r) => r.id === 'hb-b' && r.date === '2026-01-06')!.readings
      const now = await headersOf(binCsv)
      expect(Number(row(now.body))).toBe(Number(row(before.body)) + 1)
      // The rows changed, so a client holding the old ETag, or asking since the old Last-Modified, must not be told it is current.
      expect(after.status).toBe(200)
      expect(now.etag).not.toBe(before.etag)
      expect((await headersOf(binCsv, { 'if-modified-since': before.lastModified! })).status).toBe(200)
    })

    it("changes energy-half-hourly's ETag when a missed meter read arrives late, as the half-hours it spread change", async () => {
      const path = `/open/energy-half-hourly.csv?${ENERGY_WINDOW}`
      const before = await headersOf(path)
      const kwhAt = (body: string, start: string) => csvRows(body).rows.find((r) => r.buildingId === 'hm-hall' && r.start === start)!.kWh
      // The 11:00 read of the 6th, missed, arrives: 10:00–11:00 and 11:00–12:00 are no longer an even spread.
      const t = Date.parse('2026-01-06T11:00:00Z')
      const wh =
        1_000_000 + [...Array(Math.round((t - HALL.from) / SLOT)).keys()].reduce((s, k) => s + HALL.kw(HALL.from + k * SLOT) * 500, 0)
      await send('hm-hall', t, { energyWh: wh, powerW: 0 })
      const now = await headersOf(path)
      expect(Number(kwhAt(now.body, '2026-01-06T10:30:00.000Z'))).toBeCloseTo((HALL.kw(t - 2 * SLOT) + HALL.kw(t - SLOT)) / 4, 6)
      expect(kwhAt(now.body, '2026-01-06T10:30:00.000Z')).not.toBe(kwhAt(before.body, '2026-01-06T10:30:00.000Z'))
      expect((await headersOf(path, { 'if-none-match': before.etag! })).status).toBe(200)
      expect(now.etag).not.toBe(before.etag)
    })

    it('changes the ETag when an emptying is recorded on a day in the window, as the rows change', async () => {
      const before = await headersOf(binCsv)
      await collect('hb-d', '2026-01-09T12:00:00.000Z')
      const now = await headersOf(binCsv)
      expect(csvRows(now.body).rows.find((r) => r.id === 'hb-d')).toMatchObject({ date: '2026-01-09', emptyings: '1' })
      expect((await headersOf(binCsv, { 'if-none-match': before.etag! })).status).toBe(200)
      expect(now.etag).not.toBe(before.etag)
    })

    // Acceptance 3, here: after the readings above have come through MQTT, so bins have a latest fill.
    it('serves bin-fill-latest as GeoJSON the RFC 7946 schema accepts, and as NGSI-LD the WasteContainer schema accepts', async () => {
      await publish('bin-fill-latest')
      const geo = JSON.parse(await text('/open/bin-fill-latest.geojson')) as FeatureCollection
      expect(geo.features.map((f) => f.id)).toEqual(BINS.filter((b) => b.latitude !== undefined).map((b) => b.id))
      expect(errorsOf(geoJsonValidator(), geo)).toEqual([])
      const waste = wasteContainerValidator()
      const entities = JSON.parse(await text('/open/bin-fill-latest.jsonld')) as Record<string, unknown>[]
      expect(entities.map((e) => e.id)).toEqual(geo.features.map((f) => `urn:ngsi-ld:WasteContainer:${f.id}`))
      // Fill and emptying as served, not only the bare entity: the schema is held to both.
      expect(entities.filter((e) => 'fillingLevel' in e).map((e) => e.id)).toEqual([
        'urn:ngsi-ld:WasteContainer:hb-a',
        'urn:ngsi-ld:WasteContainer:hb-b',
      ])
      expect(entities.every((e) => 'dateLastEmptying' in e)).toBe(true)
      for (const e of entities) {
        const kv = toKeyValues(e)
        expect({ id: kv.id, errors: errorsOf(waste, kv) }).toEqual({ id: kv.id, errors: [] })
      }
      expect(waste({ ...toKeyValues(entities[0]!), fillingLevel: 50 })).toBe(false)
    })

    // Last: the allowance is per route and per address, and this uses up energy-daily.geojson's.
    it('limits each address on a dataset route: past 60 a minute, 429 RATE_LIMITED with Retry-After', async () => {
      let refused: Response | undefined
      let served = 0
      for (let i = 0; i < 70 && !refused; i++) {
        const res = await open(`/open/energy-daily.geojson?${ENERGY_WINDOW}`)
        if (res.status === 429) refused = res
        else {
          expect(res.status).toBe(200)
          await res.text()
          served++
        }
      }
      expect(refused, 'no 429 within 70 calls').toBeDefined()
      expect(served).toBeLessThanOrEqual(60)
      const retry = Number(refused!.headers.get('retry-after'))
      expect(retry).toBeGreaterThan(0)
      expect(retry).toBeLessThanOrEqual(60)
      expect(((await refused!.json()) as ApiError).error.code).toBe('RATE_LIMITED')
    })
  })
})
