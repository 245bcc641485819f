import type { ValidateFunction } from 'ajv'
import jsonld from 'jsonld'
import { describe, expect, it } from 'vitest'
import {
  BinFillDailyRow,
  BinFillRow,
  binsToGeoJson,
  binsToNgsiLd,
  csvWriter,
  DATASETS,
  type DatasetDefinition,
  dcatCatalogue,
  ENERGY_CONTEXT,
  EnergyDailyRow,
  EnergyHalfHourRow,
  geoJsonWriter,
  NGSI_LD_CORE_CONTEXT,
  ngsiLdDailyWriter,
  ngsiLdHalfHourWriter,
  ngsiLdWasteWriter,
  OPEN_MEDIA_TYPES,
  type RowWriter,
  toCsv,
  WASTE_CONTEXT,
} from '#devices'
import {
  acMeasurementValidator,
  fixture,
  geoJsonValidator,
  smartDataModelAjv,
  toKeyValues,
  wasteContainerValidator,
} from '../helpers/open-data-schemas.ts'

/**
 * Issue 13, acceptance 3: the open-data formats hold up against the standards others read them with.
 * Every schema and context is a shipped fixture (test/fixtures/open-data, README there says where
 * each came from): nothing is fetched, and the JSON-LD document loader refuses the network.
 */

const row = (over: Partial<BinFillRow> = {}): BinFillRow => ({
  id: 'b1',
  name: 'Bin 1, Market Square',
  site: 'town',
  latitude: 51.4123,
  longitude: -0.3005,
  fillingLevel: 0.5,
  observedAt: '2026-11-30T10:00:00.000Z',
  dateLastEmptying: '2026-11-29T06:30:00.000Z',
  ...over,
})

/** Several bins: full, empty, one never emptied, one with no reading yet, one with no position. */
const ROWS: BinFillRow[] = BinFillRow.array().parse([
  row(),
  row({ id: 'b2', name: 'Bin 2', latitude: 51.39, longitude: 0.01, fillingLevel: 1, dateLastEmptying: null }),
  row({ id: 'b3', name: 'Bin 3', latitude: -89.5, longitude: 179.9, fillingLevel: 0 }),
  row({ id: 'b4', name: 'Bin 4 (no reading yet)', fillingLevel: null, observedAt: null, dateLastEmptying: null }),
  row({ id: 'b5', name: 'Bin 5 (not yet placed)', latitude: null, longitude: null }),
])
const PLACED = ROWS.filter((r) => r.latitude !== null && r.longitude !== null)

const errorsOf = (validate: ValidateFunction, data: unknown) => (validate(data) ? [] : (validate.errors ?? []))

describe('GeoJSON validates against RFC 7946 (issue 13, acceptance 3)', () => {
  const validate = geoJsonValidator()

  it('writes a FeatureCollection the RFC 7946 schema accepts, a Point [lon, lat] per placed bin', () => {
    const geo = JSON.parse(JSON.stringify(binsToGeoJson(ROWS)))
    expect(errorsOf(validate, geo)).toEqual([])
    expect(geo.features.map((f: { id: string }) => f.id)).toEqual(PLACED.map((r) => r.id))
    for (const [f, r] of geo.features.map((f: unknown, i: number) => [f, PLACED[i]!] as const)) {
      expect(f.geometry).toEqual({ type: 'Point', coordinates: [r.longitude, r.latitude] })
    }
    // The bin with no reading keeps its feature, with null fill (properties are free-form in RFC 7946).
    expect(geo.features.find((f: { id: string }) => f.id === 'b4').properties.fillingLevel).toBeNull()
    expect('crs' in geo).toBe(false)
  })

  it('streams the same FeatureCollection a row at a time, and a daily history whose features each bin-day names', () => {
    const streamed = (w: RowWriter<BinFillRow>) => w.head + ROWS.map((r) => w.row(r)).join('') + w.tail
    expect(JSON.parse(streamed(geoJsonWriter((r) => r.id)))).toEqual(JSON.parse(JSON.stringify(binsToGeoJson(ROWS))))
    expect(JSON.parse(streamed(ngsiLdWasteWriter()))).toEqual(JSON.parse(JSON.stringify(binsToNgsiLd(ROWS))))
    expect(streamed(csvWriter(BinFillRow))).toBe(toCsv(BinFillRow, ROWS))
    // A first row with no position owes no comma: the document is still JSON.
    const unplacedFirst = [ROWS[4]!, ROWS[0]!]
    const w = geoJsonWriter<BinFillRow>((r) => r.id)
    expect(JSON.parse(w.head + unplacedFirst.map((r) => w.row(r)).join('') + w.tail).features).toHaveLength(1)

    const days = BinFillDailyRow.array().parse(
      ['2026-11-28', '2026-11-29'].flatMap((date) =>
        [row(), row({ id: 'b5', latitude: null, longitude: null })].map((r) => ({
          id: r.id,
          name: r.name,
          site: r.site,
          latitude: r.latitude,
          longitude: r.longitude,
          date,
          fillingLevelMean: 0.4,
          fillingLevelMax: 0.55,
          readings: 24,
          emptyings: 1,
        })),
      ),
    )
    const daily = geoJsonWriter<BinFillDailyRow>((r) => `${r.id}/${r.date}`)
    const geo = JSON.parse(daily.head + days.map((r) => daily.row(r)).join('') + daily.tail)
    expect(errorsOf(validate, geo)).toEqual([])
    expect(geo.features.map((f: { id: string }) => f.id)).toEqual(['b1/2026-11-28', 'b1/2026-11-29'])
    expect(geo.features[0].properties).toEqual({
      id: 'b1',
      name: 'Bin 1, Market Square',
      site: 'town',
      date: '2026-11-28',
      fillingLevelMean: 0.4,
      fillingLevelMax: 0.55,
      readings: 24,
      emptyings: 1,
    })
  })

  it('writes each CSV record whole when it reuses the leading cells it shares with the record before', () => {
    const naive = (r: BinFillRow) =>
      `${Object.keys(BinFillRow.shape)
        .map((c) => {
          const v = r[c as keyof BinFillRow]
          const t = v === null ? '' : String(v)
          return /[",\r\n]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t
        })
        .join(',')}\r\n`
    // Runs that share 0 to all leading cells, in every order: a later cell equal while an earlier differs included.
    const rows = [
      row(),
      row(),
      row({ fillingLevel: 0.7 }),
      row({ name: 'Bin "B", Lane' }),
      row({ name: 'Bin "B", Lane', latitude: null }),
      row({ id: 'b2' }),
      row({ id: 'b2', site: 'park', fillingLevel: 0.7 }),
      row(),
    ]
    const w = csvWriter<BinFillRow>(BinFillRow)
    expect(rows.map((r) => w.row(r))).toEqual(rows.map(naive))
  })

  it('has a schema with teeth: latitude-first positions, a crs member or a missing geometry are refused', () => {
    const good = JSON.parse(JSON.stringify(binsToGeoJson([row({ latitude: 51.4, longitude: 120 })])))
    expect(errorsOf(validate, good)).toEqual([])
    // [lat, lon] swapped: 120 is no latitude.
    const swapped = structuredClone(good)
    swapped.features[0].geometry.coordinates.reverse()
    expect(validate(swapped)).toBe(false)
    expect(validate({ ...good, crs: { type: 'name', properties: { name: 'EPSG:27700' } } })).toBe(false)
    const noGeometry = structuredClone(good)
    delete noGeometry.features[0].geometry
    expect(validate(noGeometry)).toBe(false)
    expect(validate({ ...good, type: 'Feature' })).toBe(false)
  })
})

describe('NGSI-LD entities validate against the Smart Data Models WasteContainer schema (issue 13, acceptance 3)', () => {
  const validate = wasteContainerValidator()
  const entities = JSON.parse(JSON.stringify(binsToNgsiLd(ROWS))) as Record<string, unknown>[]

  it('writes one NGSI-LD entity per placed bin, with its urn, type, @context and attribute shapes', () => {
    expect(entities.map((e) => e.id)).toEqual(PLACED.map((r) => `urn:ngsi-ld:WasteContainer:${r.id}`))
    for (const [e, r] of entities.map((e, i) => [e, PLACED[i]!] as const)) {
      expect(e.type).toBe('WasteContainer')
      expect(e['@context']).toEqual([WASTE_CONTEXT, NGSI_LD_CORE_CONTEXT])
      expect(e.name).toEqual({ type: 'Property', value: r.name })
      expect(e.location).toEqual({ type: 'GeoProperty', value: { type: 'Point', coordinates: [r.longitude, r.latitude] } })
      if (r.fillingLevel === null) expect(e).not.toHaveProperty('fillingLevel')
      else expect(e.fillingLevel).toEqual({ type: 'Property', value: r.fillingLevel, observedAt: r.observedAt })
      if (r.dateLastEmptying === null) expect(e).not.toHaveProperty('dateLastEmptying')
      else expect(e.dateLastEmptying).toEqual({ type: 'Property', value: { '@type': 'DateTime', '@value': r.dateLastEmptying } })
      // Nothing beyond the model's attributes: no site, no raw latitude/longitude.
      expect(Object.keys(e).sort()).toEqual(
        ['@context', 'id', 'type', 'name', 'location', 'fillingLevel', 'dateLastEmptying'].filter((k) => k in e).sort(),
      )
    }
  })

  it('validates every entity, in key-values form, against the shipped WasteContainer schema', () => {
    expect(entities.length).toBe(4)
    for (const e of entities) {
      const kv = toKeyValues(e)
      expect({ id: kv.id, errors: errorsOf(validate, kv) }).toEqual({ id: kv.id, errors: [] })
    }
    expect(toKeyValues(entities[0]!)).toEqual({
      id: 'urn:ngsi-ld:WasteContainer:b1',
      type: 'WasteContainer',
      name: 'Bin 1, Market Square',
      fillingLevel: 0.5,
      dateLastEmptying: '2026-11-29T06:30:00.000Z',
      location: { type: 'Point', coordinates: [-0.3005, 51.4123] },
    })
  })

  it('has a schema with teeth: a fill over 1, a date that is not a date-time, no location or another type are refused', () => {
    const kv = toKeyValues(entities[0]!)
    expect(validate(kv)).toBe(true)
    expect(validate({ ...kv, fillingLevel: 50 })).toBe(false)
    expect(validate({ ...kv, dateLastEmptying: '29/11/2026' })).toBe(false)
    expect(validate({ ...kv, location: undefined })).toBe(false)
    expect(validate({ ...kv, location: { type: 'Point', coordinates: [-0.3] } })).toBe(false)
    expect(validate({ ...kv, type: 'Bin' })).toBe(false)
    expect(() => toKeyValues({ ...entities[0]!, fillingLevel: 0.5 })).toThrow(/not an NGSI-LD attribute/)
  })
})

/** The whole NGSI-LD array a writer makes of rows, parsed back. */
const written = <Row>(w: RowWriter<Row>, rows: readonly Row[]) =>
  JSON.parse(w.head + rows.map((r) => w.row(r)).join('') + w.tail) as Record<string, unknown>[]

const HALL = { buildingId: 'town-hall', buildingName: 'Town Hall', site: 'civic', latitude: 51.409, longitude: -0.306 }
const DEPOT = { buildingId: 'depot', buildingName: 'Depot (not yet placed)', site: 'civic', latitude: null, longitude: null }
const HALF_HOURS: EnergyHalfHourRow[] = EnergyHalfHourRow.array().parse([
  { ...HALL, start: '2026-01-05T00:00:00.000Z', kWh: 1.25 },
  { ...HALL, start: '2026-01-05T00:30:00.000Z', kWh: 0 },
  { ...DEPOT, start: '2026-01-05T00:00:00.000Z', kWh: 3 },
  // In British Summer Time: the half-hour is still 30 minutes of UTC.
  { ...HALL, start: '2026-06-01T23:30:00.000Z', kWh: 2.5 },
])
const DAYS: EnergyDailyRow[] = EnergyDailyRow.array().parse([
  { ...HALL, date: '2026-01-05', kWh: 60.5, halfHoursKnown: 36, halfHoursInDay: 48 },
  { ...DEPOT, date: '2026-01-05', kWh: 12, halfHoursKnown: 48, halfHoursInDay: 48 },
  // The clocks go forward (a 23-hour day), a BST day, and back (25 hours).
  { ...HALL, date: '2026-03-29', kWh: 70, halfHoursKnown: 46, halfHoursInDay: 46 },
  { ...HALL, date: '2026-06-02', kWh: 80, halfHoursKnown: 48, halfHoursInDay: 48 },
  { ...HALL, date: '2026-10-25', kWh: 90, halfHoursKnown: 50, halfHoursInDay: 50 },
])
/** Each London day's midnight to midnight, in UTC, worked out by hand from the UK clock changes of 2026. */
const DAY_PERIODS = [
  ['2026-01-05T00:00:00.000Z', '2026-01-06T00:00:00.000Z'],
  ['2026-03-29T00:00:00.000Z', '2026-03-29T23:00:00.000Z'],
  ['2026-06-01T23:00:00.000Z', '2026-06-02T23:00:00.000Z'],
  ['2026-10-24T23:00:00.000Z', '2026-10-26T00:00:00.000Z'],
]
const dt = (v: string) => ({ '@type': 'DateTime', '@value': v })

describe('NGSI-LD energy entities follow the Smart Data Models ACMeasurement schema (issue 13, acceptances 1 and 3)', () => {
  // The corrected copy (README beside it): upstream nests these properties where no validator looks.
  const validate = acMeasurementValidator()
  // The same settings, for the upstream copy the corrections are checked against.
  const ajv = smartDataModelAjv()
  const halfHours = written(ngsiLdHalfHourWriter(), HALF_HOURS)
  const days = written(ngsiLdDailyWriter(), DAYS)

  it('writes a half-hour per placed row: its period from start to start + 30 min, observed at its end, its kWh as the import since its start', () => {
    const placed = HALF_HOURS.filter((r) => r.latitude !== null)
    expect(halfHours.map((e) => e.id)).toEqual(placed.map((r) => `urn:ngsi-ld:ACMeasurement:town-hall:PT30M:${r.start}`))
    for (const [e, r] of halfHours.map((e, i) => [e, placed[i]!] as const)) {
      const end = new Date(Date.parse(r.start) + 30 * 60_000).toISOString()
      expect(e).toEqual({
        id: `urn:ngsi-ld:ACMeasurement:town-hall:PT30M:${r.start}`,
        type: 'ACMeasurement',
        name: { type: 'Property', value: 'Town Hall' },
        dateObserved: { type: 'Property', value: dt(end) },
        dateObservedFrom: { type: 'Property', value: dt(r.start) },
        dateObservedTo: { type: 'Property', value: dt(end) },
        dateEnergyMeteringStarted: { type: 'Property', value: dt(r.start) },
        totalActiveEnergyImport: { type: 'Property', value: r.kWh, unitCode: 'KWH', observedAt: end },
        phaseType: { type: 'Property', value: 'threePhase' },
        refDevice: { type: 'Relationship', object: ['urn:ngsi-ld:Device:town-hall'] },
        location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [-0.306, 51.409] } },
        '@context': [ENERGY_CONTEXT, NGSI_LD_CORE_CONTEXT],
      })
    }
    // No site, no raw latitude/longitude: only the model's attributes.
    expect(JSON.stringify(halfHours)).not.toMatch(/"site"|"latitude"|"civic"/)
  })

  it("writes a London day per placed row, midnight to midnight in UTC (23 and 25 hours when the clocks change), with the day's kWh", () => {
    expect(days.map((e) => e.id)).toEqual(
      ['2026-01-05', '2026-03-29', '2026-06-02', '2026-10-25'].map((d) => `urn:ngsi-ld:ACMeasurement:town-hall:P1D:${d}`),
    )
    const periods = days.map((e) =>
      [e.dateObservedFrom, e.dateObservedTo].map((a) => (a as { value: { '@value': string } }).value['@value']),
    )
    expect(periods).toEqual(DAY_PERIODS)
    const hours = periods.map(([from, to]) => (Date.parse(to!) - Date.parse(from!)) / 3_600_000)
    expect(hours).toEqual([24, 23, 24, 25])
    for (const [e, r] of days.map((e, i) => [e, DAYS.filter((d) => d.latitude !== null)[i]!] as const)) {
      expect(e.dateObserved).toEqual(e.dateObservedTo)
      expect(e.dateEnergyMeteringStarted).toEqual(e.dateObservedFrom)
      expect((e.totalActiveEnergyImport as { value: number }).value).toBe(r.kWh)
    }
    // A half-hour and a day starting at the same instant are different entities.
    expect(halfHours.map((e) => e.id)).not.toContain(days[0]!.id)
    expect(halfHours[0]!.dateObservedFrom).toEqual(days[0]!.dateObservedFrom)
  })

  it('validates every entity, in key-values form, against the shipped (corrected) ACMeasurement schema', () => {
    expect(halfHours.length + days.length).toBe(7)
    for (const e of [...halfHours, ...days]) {
      const kv = toKeyValues(e)
      expect({ id: kv.id, errors: errorsOf(validate, kv) }).toEqual({ id: kv.id, errors: [] })
    }
    expect(toKeyValues(days[0]!)).toEqual({
      id: 'urn:ngsi-ld:ACMeasurement:town-hall:P1D:2026-01-05',
      type: 'ACMeasurement',
      name: 'Town Hall',
      dateObserved: '2026-01-06T00:00:00.000Z',
      dateObservedFrom: '2026-01-05T00:00:00.000Z',
      dateObservedTo: '2026-01-06T00:00:00.000Z',
      dateEnergyMeteringStarted: '2026-01-05T00:00:00.000Z',
      totalActiveEnergyImport: 60.5,
      phaseType: 'threePhase',
      refDevice: ['urn:ngsi-ld:Device:town-hall'],
      location: { type: 'Point', coordinates: [-0.306, 51.409] },
    })
  })

  it('has a schema with teeth: negative energy, an unknown phase, a missing or malformed date, no location or another type are refused', () => {
    const kv = toKeyValues(halfHours[0]!)
    expect(validate(kv)).toBe(true)
    expect(validate({ ...kv, totalActiveEnergyImport: -1 })).toBe(false)
    expect(validate({ ...kv, phaseType: 'fourPhase' })).toBe(false)
    expect(validate({ ...kv, dateObserved: undefined })).toBe(false)
    expect(validate({ ...kv, dateObservedFrom: '05/01/2026 06:00' })).toBe(false)
    expect(validate({ ...kv, dateEnergyMeteringStarted: 'yesterday' })).toBe(false)
    expect(validate({ ...kv, refDevice: [] })).toBe(false)
    expect(validate({ ...kv, phaseType: undefined })).toBe(false)
    expect(validate({ ...kv, location: undefined })).toBe(false)
    expect(validate({ ...kv, type: 'WasteContainer' })).toBe(false)
  })

  it('ships the upstream schema unchanged, whose nesting lets any value through, and a copy that differs only by the corrections its README lists', () => {
    const upstream = fixture('ac-measurement.schema.upstream.json') as {
      allOf: [unknown, unknown, { properties: Record<string, Record<string, unknown>> }]
    }
    // Under its own $id: the corrected copy holds upstream's.
    const loose = ajv.compile({
      ...upstream,
      $id: 'https://smart-data-models.github.io/data-models.Energy/ACMeasurement/schema.upstream.json',
    })
    const kv = toKeyValues(halfHours[0]!)
    // Why the corrected copy: upstream checks neither the energy, the phase nor the device references.
    expect(loose({ ...kv, totalActiveEnergyImport: -1, phaseType: 'fourPhase', refDevice: 'not a list' })).toBe(true)
    expect(validate({ ...kv, totalActiveEnergyImport: -1 })).toBe(false)

    // The corrections, applied here to upstream, give the shipped copy exactly.
    const fixed = structuredClone(upstream) as typeof upstream & { $comment?: string }
    const props = fixed.allOf[2].properties
    const { type, format, description, ...nested } = props.dateObservedTo!
    props.dateObservedTo = { type, format, description }
    Object.assign(props, nested)
    expect(props.phaseType!.enum).toEqual(['singlePhase', 'treePhase'])
    props.phaseType!.enum = ['singlePhase', 'threePhase']
    const { $comment, ...corrected } = fixture('ac-measurement.schema.json') as Record<string, unknown>
    expect($comment).toMatch(/treePhase/)
    expect(corrected).toEqual(fixed)
    expect(Object.keys(nested)).toEqual(expect.arrayContaining(['refDevice', 'phaseType', 'totalActiveEnergyImport']))
  })
})

const DCAT = 'http://www.w3.org/ns/dcat#'
const DCT = 'http://purl.org/dc/terms/'
const FOAF = 'http://xmlns.com/foaf/0.1/'
/** Where the test serves the DCAT context fixture; the only document the loader will hand out. */
const CONTEXT_URL = 'https://data.example.gov.uk/open/context.jsonld'
const dcatContext = fixture('dcat-context.jsonld') as { '@context': Record<string, unknown> }

const requested: string[] = []
const documentLoader = async (url: string) => {
  requested.push(url)
  if (url !== CONTEXT_URL) throw new Error(`the test loads no remote document (${url})`)
  return { contextUrl: undefined, documentUrl: url, document: dcatContext }
}

type Node = Record<string, unknown[]> & { '@id'?: string; '@type'?: string[] }
const expand = async (doc: object) =>
  // safe mode: a term that does not map to an IRI is an error, not silently dropped.
  (await jsonld.expand(doc as jsonld.JsonLdDocument, { documentLoader, safe: true } as jsonld.Options.Expand)) as unknown as Node[]

/** Every IRI used as a property or a type anywhere in an expanded document. */
function vocabularyOf(nodes: readonly unknown[], into = new Set<string>()): Set<string> {
  for (const n of nodes) {
    if (n === null || typeof n !== 'object') continue
    for (const [k, v] of Object.entries(n)) {
      if (k === '@type' && Array.isArray(v)) for (const t of v) into.add(t as string)
      else if (!k.startsWith('@')) into.add(k)
      if (Array.isArray(v)) vocabularyOf(v, into)
    }
  }
  return into
}

const BASE = 'https://data.example.gov.uk'
/** With a history dataset's temporal coverage, so its terms are checked too. */
const catalogue = () =>
  dcatCatalogue(DATASETS as readonly DatasetDefinition[], {
    baseUrl: BASE,
    publisher: 'Example Council',
    coverage: { 'bin-fill-daily': { start: '2025-12-01T00:00:00.000Z', end: '2026-11-30T09:15:00.000Z' } },
  })
const value = (n: Node, p: string) => (n[p] as { '@value'?: unknown; '@id'?: string }[] | undefined)?.map((x) => x['@value'] ?? x['@id'])

describe('the DCAT catalogue parses as JSON-LD with the DCAT context (issue 13, acceptance 3)', () => {
  it('expands, with no remote document, to a dcat:Catalog of dcat:Datasets with titled distributions and URLs', async () => {
    requested.length = 0
    const expanded = await expand(catalogue())
    expect(requested).toEqual([])
    const [cat, ...more] = expanded
    expect(more).toEqual([])
    expect(cat!['@type']).toEqual([`${DCAT}Catalog`])
    expect(cat!['@id']).toBe(`${BASE}/open`)
    expect(value(cat!, `${DCT}title`)).toEqual(['Open data from Example Council'])
    const publisher = cat![`${DCT}publisher`]![0] as Node
    expect(publisher['@type']).toEqual([`${FOAF}Agent`])
    expect(value(publisher, `${FOAF}name`)).toEqual(['Example Council'])

    const datasets = cat![`${DCAT}dataset`] as Node[]
    expect(datasets.map((d) => d['@id'])).toEqual(DATASETS.map((d) => `${BASE}/open#${d.id}`))
    for (const [ds, def] of datasets.map((d, i) => [d, DATASETS[i]!] as const)) {
      expect(ds['@type']).toEqual([`${DCAT}Dataset`])
      expect(value(ds, `${DCT}title`)).toEqual([def.title])
      expect(value(ds, `${DCT}description`)).toEqual([def.description])
      expect(value(ds, `${DCT}license`)).toEqual([def.licence])
      expect(value(ds, `${DCT}accrualPeriodicity`)).toEqual([`http://publications.europa.eu/resource/authority/frequency/${def.frequency}`])
      const distributions = (ds[`${DCAT}distribution`] ?? []) as Node[]
      // A distribution per format served, each with its media type.
      expect(distributions).toHaveLength(def.formats.length)
      for (const [dist, format] of distributions.map((d, i) => [d, def.formats[i]!] as const)) {
        expect(dist['@type']).toEqual([`${DCAT}Distribution`])
        expect(value(dist, `${DCT}title`)?.[0]).toMatch(def.title)
        const url = `${BASE}/open/${def.id}.${format}`
        expect(value(dist, `${DCAT}downloadURL`) ?? value(dist, `${DCAT}accessURL`)).toEqual([url])
        expect(value(dist, `${DCAT}accessURL`)).toEqual([url])
        expect(value(dist, `${DCAT}mediaType`)).toEqual([`https://www.iana.org/assignments/media-types/${OPEN_MEDIA_TYPES[format]}`])
      }
    }
    expect(datasets.filter((d) => ((d[`${DCAT}distribution`] ?? []) as unknown[]).length > 0).length).toBeGreaterThan(0)
  })

  it('uses only DCAT, DCTERMS and FOAF terms the shipped context defines, and reads the same through that context', async () => {
    const ctx = dcatContext['@context']
    // The catalogue's own prefixes are the context fixture's.
    for (const [prefix, iri] of Object.entries(catalogue()['@context'])) expect(ctx[prefix]).toBe(iri)
    const terms = new Set(
      Object.entries(ctx).flatMap(([k, v]) => {
        if (k.startsWith('@')) return []
        const id = typeof v === 'string' ? v : (v as { '@id': string })['@id']
        const [prefix, local] = id.split(':')
        return prefix !== undefined && local !== undefined && typeof ctx[prefix] === 'string' && !id.endsWith('#') && !id.endsWith('/')
          ? [`${ctx[prefix]}${local}`]
          : []
      }),
    )
    const inline = await expand(catalogue())
    expect([...vocabularyOf(inline)].filter((iri) => !terms.has(iri))).toEqual([])

    // The same catalogue with the context fixture served from a URL in place of the inline one.
    requested.length = 0
    const viaUrl = await expand({ ...catalogue(), '@context': CONTEXT_URL })
    expect(requested).toEqual([CONTEXT_URL])
    expect(viaUrl).toEqual(inline)
  })

  it('refuses, in safe mode, a catalogue term that maps to no IRI (so a typo cannot pass as parsed)', async () => {
    await expect(expand({ ...catalogue(), datasetz: [] })).rejects.toThrow(/safe mode/i)
    await expect(expand({ ...catalogue(), 'dcat:dataset': [{ '@type': 'dcat:Dataset', title: 'x' }] })).rejects.toThrow(/safe mode/i)
    // Nor is any other remote context fetched: the loader hands out the fixture and nothing else.
    requested.length = 0
    await expect(expand({ ...catalogue(), '@context': 'https://www.w3.org/ns/dcat.jsonld' })).rejects.toThrow(/dcat\.jsonld/)
    expect(requested).toEqual(['https://www.w3.org/ns/dcat.jsonld'])
  })
})
