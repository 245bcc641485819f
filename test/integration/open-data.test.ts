import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry, DeviceState } from '#devices'
import { parseCsv } from '../helpers/csv.ts'
import { dayOf, isoDay } from '../helpers/open-data-seed.ts'
import { type Caller, signedInPerson } from '../helpers/people.ts'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

const FORMATS = ['csv', 'geojson', 'jsonld'] as const
const LICENCE = 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/'
/** Fill each bin reports; ob-3 never reports and has no position. */
const FILL: Record<string, number> = { 'ob-1': 0.42, 'ob-2': 0.875 }
const EMPTIED = '2026-11-29T06:30:00.000Z'

interface Entity {
  id: string
  type: string
  fillingLevel?: unknown
  dateLastEmptying?: unknown
  location: unknown
  '@context': unknown
}

describe('open data: datasets switched on by an administrator, served as DCAT, CSV, GeoJSON and NGSI-LD (issue 13)', () => {
  let svc: TestService
  let admin: Caller
  let crew: Caller
  const as = (who: Caller, method: string, path: string, body?: unknown) =>
    fetch(`${svc.url}${path}`, {
      method,
      headers: { ...who.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const latestOf = async (id: string) => ((await (await svc.api(`/api/devices/${id}`)).json()) as { state: DeviceState }).state
  const publish = (who: Caller, published: boolean) => as(who, 'PUT', '/api/open-data/datasets/bin-fill-latest', { published })
  const catalogue = async () => {
    const res = await fetch(`${svc.url}/open`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/ld\+json/)
    return (await res.json()) as { '@context': Record<string, string>; '@type': string; 'dcat:dataset': Record<string, unknown>[] }
  }
  /** The catalogue as a browser asks for it: the page for people. */
  const cataloguePage = async () => {
    const res = await fetch(`${svc.url}/open`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    return res.text()
  }
  /** The datasets the page shows: a section per dataset, headed by its identifier, with its download links. */
  const pageDatasets = (html: string) => [...html.matchAll(/<section aria-labelledby="([a-z-]+)">/g)].map((m) => m[1])
  const pageLinks = (html: string) => [...html.matchAll(/<a href="[^"]*(\/open\/[a-z-]+\.[a-z]+)"/g)].map((m) => m[1])

  beforeAll(async () => {
    svc = await startService()
    const registry = svc.service.registry
    admin = await signedInPerson(registry, [{ role: 'admin', areas: null }], { email: 'open-data-officer@council.example' })
    crew = await signedInPerson(registry, [{ role: 'crew', areas: null }])
    const bins = [
      await svc.provision({ id: 'ob-1', type: 'bin', name: 'Bin 1, High Street', site: 'town', latitude: 51.4, longitude: -0.3 }),
      await svc.provision({ id: 'ob-2', type: 'bin', name: 'Bin "Market", Square', site: 'town', latitude: 51.41, longitude: -0.31 }),
    ]
    await svc.provision({ id: 'ob-3', type: 'bin', name: 'Bin 3', site: 'town' })
    for (const b of bins) {
      const client = await connectDevice(svc.mqttUrl, b.id, b.secret)
      const readings = { fillingLevel: FILL[b.id], temperature: 9, batteryPct: 80, tilted: false }
      await client.publishAsync(telemetryTopic(b), JSON.stringify({ ts: Date.now() - 60_000, readings }), { qos: 1 })
      await client.endAsync()
    }
    await waitFor(async () => (await Promise.all(Object.keys(FILL).map(latestOf))).every((s) => s.latest))
    await registry.rounds.addCollection({
      deviceId: 'ob-1',
      at: Date.parse(EMPTIED),
      levelBefore: null,
      levelAfter: null,
      wasted: null,
      tilted: null,
      source: 'manual',
      actor: 'crew',
    })
  })
  afterAll(() => svc?.close())

  it('publishes nothing by default: an empty catalogue, and every format answers 404', async () => {
    const cat = await catalogue()
    expect(cat['@type']).toBe('dcat:Catalog')
    expect(cat['dcat:dataset']).toEqual([])
    for (const f of FORMATS) {
      const res = await fetch(`${svc.url}/open/bin-fill-latest.${f}`)
      expect(res.status).toBe(404)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('DATASET_NOT_PUBLISHED')
    }
    const list = (await (await as(admin, 'GET', '/api/open-data/datasets')).json()) as { id: string; published: boolean }[]
    expect(list.map((d) => d.id)).toEqual([
      'bin-fill-latest',
      'bin-fill-daily',
      'energy-half-hourly',
      'energy-daily',
      'service-health',
      'service-readings-daily',
    ])
    expect(list.every((d) => !d.published)).toBe(true)
    // The page for people lists nothing either: no section, no download link, and says so.
    const page = await cataloguePage()
    expect(pageDatasets(page)).toEqual([])
    expect(pageLinks(page)).toEqual([])
    expect(page).toContain('No datasets are published yet.')
    for (const d of list) expect(page).not.toContain(d.id)
  })

  it('refuses the switch to anyone but an administrator, and an unknown dataset with 404', async () => {
    expect((await publish(crew, true)).status).toBe(403)
    expect((await as(admin, 'PUT', '/api/open-data/datasets/boiler-pressure', { published: true })).status).toBe(404)
    expect((await catalogue())['dcat:dataset']).toEqual([])
  })

  it('once published, lists the dataset with three distributions, and its formats agree with the readings API', async () => {
    const before = Date.now()
    const res = await publish(admin, true)
    expect(res.status, await res.clone().text()).toBe(200)
    expect(((await res.json()) as { published: boolean; changedBy: string }).changedBy).toBe(admin.actor)

    const cat = await catalogue()
    expect(Object.keys(cat['@context'])).toEqual(expect.arrayContaining(['dcat', 'dct', 'foaf']))
    expect(cat['dcat:dataset']).toHaveLength(1)
    const d = cat['dcat:dataset'][0] as Record<string, unknown> & { 'dcat:distribution': Record<string, { '@id': string }>[] }
    expect(d['dct:title']).toBe('Street bin fill levels (latest)')
    expect(d['dct:license']).toEqual({ '@id': LICENCE })
    expect(d['dct:publisher']).toMatchObject({ '@type': 'foaf:Agent', 'foaf:name': 'the council' })
    expect(d['dcat:distribution'].map((x) => x['dcat:mediaType']!['@id'])).toEqual([
      'https://www.iana.org/assignments/media-types/text/csv',
      'https://www.iana.org/assignments/media-types/application/geo+json',
      'https://www.iana.org/assignments/media-types/application/ld+json',
    ])
    for (const dist of d['dcat:distribution']) {
      const url = new URL(dist['dcat:downloadURL']!['@id'])
      expect(dist['dcat:accessURL']).toEqual(dist['dcat:downloadURL'])
      expect((await fetch(`${svc.url}${url.pathname}`)).status).toBe(200)
    }

    // The same rows three ways, each held to the readings API's latest state of every bin.
    const csvRes = await fetch(`${svc.url}/open/bin-fill-latest.csv`)
    expect(csvRes.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/)
    const csvText = await csvRes.text()
    expect(csvText.endsWith('\r\n')).toBe(true)
    const [header, ...records] = parseCsv(csvText)
    expect(header).toEqual(['id', 'name', 'site', 'latitude', 'longitude', 'fillingLevel', 'observedAt', 'dateLastEmptying'])
    const csv = new Map(records.map((r) => [r[0]!, Object.fromEntries(header!.map((h, i) => [h, r[i]!]))]))
    expect([...csv.keys()]).toEqual(['ob-1', 'ob-2', 'ob-3'])
    expect(csv.get('ob-2')!.name).toBe('Bin "Market", Square')
    expect(csv.get('ob-3')).toMatchObject({ latitude: '', fillingLevel: '', observedAt: '' })
    expect(csv.get('ob-1')!.dateLastEmptying).toBe(EMPTIED)

    const geo = (await (await fetch(`${svc.url}/open/bin-fill-latest.geojson`)).json()) as {
      type: string
      features: { id: string; geometry: { type: string; coordinates: number[] }; properties: Record<string, unknown> }[]
    }
    expect(geo.type).toBe('FeatureCollection')
    expect(geo.features.map((f) => f.id)).toEqual(['ob-1', 'ob-2'])
    const ngsi = (await (await fetch(`${svc.url}/open/bin-fill-latest.jsonld`)).json()) as Entity[]
    expect(ngsi.map((e) => e.id)).toEqual(['urn:ngsi-ld:WasteContainer:ob-1', 'urn:ngsi-ld:WasteContainer:ob-2'])

    for (const id of Object.keys(FILL)) {
      const state = await latestOf(id)
      const fill = state.latest!.readings.fillingLevel
      expect(fill).toBe(FILL[id])
      expect(Number(csv.get(id)!.fillingLevel)).toBe(fill)
      expect(csv.get(id)!.observedAt).toBe(state.latest!.ts)
      const feature = geo.features.find((f) => f.id === id)!
      expect(feature.properties.fillingLevel).toBe(fill)
      expect(feature.properties.observedAt).toBe(state.latest!.ts)
      expect(feature.geometry).toEqual({ type: 'Point', coordinates: [Number(csv.get(id)!.longitude), Number(csv.get(id)!.latitude)] })
      const entity = ngsi.find((e) => e.id === `urn:ngsi-ld:WasteContainer:${id}`)!
      expect(entity.type).toBe('WasteContainer')
      expect(entity.fillingLevel).toEqual({ type: 'Property', value: fill, observedAt: state.latest!.ts })
      expect(entity.location).toEqual({ type: 'GeoProperty', value: feature.geometry })
      expect(entity['@context']).toEqual([
        'https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/master/context.jsonld',
        'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld',
      ])
    }
    expect(ngsi[0]!.dateLastEmptying).toEqual({ type: 'Property', value: { '@type': 'DateTime', '@value': EMPTIED } })
    expect(ngsi[1]!.dateLastEmptying).toBeUndefined()

    // The page for people lists it too, with a link per format and a sample holding the bins.
    const page = await cataloguePage()
    expect(pageDatasets(page)).toEqual(['bin-fill-latest'])
    expect(pageLinks(page)).toEqual(FORMATS.map((f) => `/open/bin-fill-latest.${f}`))
    expect(page).toContain('Street bin fill levels (latest)')
    expect(page).not.toContain('No datasets are published yet.')
    for (const id of Object.keys(FILL)) expect(page).toContain(`<td>${id}</td>`)

    // Who published it, and when, is in the audit log.
    const audit = (await (await svc.api('/api/audit?limit=50')).json()) as AuditEntry[]
    const entry = audit.find((e) => e.action === 'dataset-published' && e.target === 'dataset:bin-fill-latest')!
    expect(entry.actor).toBe(admin.actor)
    expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(before - 1000)
    expect(Date.parse(entry.at)).toBeLessThanOrEqual(Date.now())
  })

  it('answers a repeated request with 304 when its ETag still matches, and lets a CDN keep it a minute', async () => {
    const first = await fetch(`${svc.url}/open/bin-fill-latest.csv`)
    await first.text()
    const etag = first.headers.get('etag')
    expect(etag).toMatch(/^W\/"[A-Za-z0-9_-]+"$/)
    expect(first.headers.get('cache-control')).toBe('public, max-age=60')
    const again = await fetch(`${svc.url}/open/bin-fill-latest.csv`, { headers: { 'if-none-match': etag! } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    const stale = await fetch(`${svc.url}/open/bin-fill-latest.csv`, { headers: { 'if-none-match': '"not-this-one"' } })
    expect(stale.status).toBe(200)
    expect(await stale.text()).toBe(await (await fetch(`${svc.url}/open/bin-fill-latest.csv`)).text())
  })

  it('withdraws the dataset: the catalogue is empty again, every format 404, and the withdrawal is audited with who and when', async () => {
    const before = Date.now()
    const res = await publish(admin, false)
    expect(res.status).toBe(200)
    expect((await res.json()) as { published: boolean; changedBy: string }).toMatchObject({ published: false, changedBy: admin.actor })
    expect((await catalogue())['dcat:dataset']).toEqual([])
    expect(pageDatasets(await cataloguePage())).toEqual([])
    for (const f of FORMATS) expect((await fetch(`${svc.url}/open/bin-fill-latest.${f}`)).status).toBe(404)
    const audit = (await (await svc.api('/api/audit?limit=50')).json()) as AuditEntry[]
    const ofDataset = audit.filter((e) => e.target === 'dataset:bin-fill-latest')
    const withdrawn = ofDataset.filter((e) => e.action === 'dataset-withdrawn')
    const published = ofDataset.filter((e) => e.action === 'dataset-published')
    expect([withdrawn.length, published.length]).toEqual([1, 1])
    const entry = withdrawn[0]!
    expect(entry.actor).toBe(admin.actor)
    expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(before - 1000)
    expect(Date.parse(entry.at)).toBeLessThanOrEqual(Date.now())
    // Its own entry, after the publication's: both stay in the log.
    expect(entry.id).not.toBe(published[0]!.id)
    expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(Date.parse(published[0]!.at))
  })

  it("publishes service health as CSV: bins online per area, agreeing with each bin's presence in the API", async () => {
    expect((await fetch(`${svc.url}/open/service-health.csv`)).status).toBe(404)
    const res = await as(admin, 'PUT', '/api/open-data/datasets/service-health', { published: true })
    expect(res.status).toBe(200)
    expect((await catalogue())['dcat:dataset'].map((d) => d['dct:identifier'])).toEqual(['service-health'])
    const [header, ...records] = parseCsv(await (await fetch(`${svc.url}/open/service-health.csv`)).text())
    expect(header).toEqual(['type', 'area', 'online', 'total'])
    const online = (await Promise.all(['ob-1', 'ob-2', 'ob-3'].map(latestOf))).filter((s) => s.presence === 'online').length
    // No area names the bins' site, so they count as unassigned.
    expect(records).toEqual([['bin', 'unassigned', String(online), '3']])
    expect((await as(admin, 'PUT', '/api/open-data/datasets/service-health', { published: false })).status).toBe(200)
  })

  it('publishes readings per day per type and area as CSV, listed in /open, agreeing with InfluxDB and with the readings API on an explicit window', async () => {
    expect((await as(admin, 'PUT', '/api/open-data/datasets/service-readings-daily', { published: true })).status).toBe(200)
    const res = await fetch(`${svc.url}/open/service-readings-daily.csv`)
    expect(res.status).toBe(200)
    const [header, ...records] = parseCsv(await res.text())
    expect(header).toEqual(['type', 'area', 'date', 'readings'])
    // Each bin that reported sent one reading, a minute before the test began: today in London.
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(Date.now() - 60_000)
    const held = await countPoints(svc.influxUrl, svc.db, 'bin')
    expect(held).toBe(Object.keys(FILL).length)
    expect(records).toEqual([['bin', 'unassigned', today, String(held)]])
    expect((await catalogue())['dcat:dataset'].map((d) => d['dct:identifier'])).toEqual(['service-readings-daily'])

    // On an explicit window (London days, `to` exclusive), against the readings API: each bin's points
    // over the last few days, counted by the London day they fell on.
    const day = dayOf(today)
    const london = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' })
    const perDay = new Map<string, number>()
    for (const id of ['ob-1', 'ob-2', 'ob-3']) {
      const q = new URLSearchParams({ from: new Date(Date.now() - 4 * 86_400_000).toISOString(), to: new Date().toISOString() })
      const r = await svc.api(`/api/devices/${id}/readings?${q}`)
      expect(r.status, await r.clone().text()).toBe(200)
      for (const p of ((await r.json()) as { points: { time: string; fillingLevel?: number | null }[] }).points) {
        if (typeof p.fillingLevel !== 'number') continue
        const date = london.format(Date.parse(p.time))
        perDay.set(date, (perDay.get(date) ?? 0) + 1)
      }
    }
    const rowsOn = async (from: number, to: number) => {
      const r = await fetch(`${svc.url}/open/service-readings-daily.csv?from=${isoDay(from)}&to=${isoDay(to)}`)
      const body = await r.text()
      expect(r.status, body).toBe(200)
      const [head, ...rows] = parseCsv(body)
      expect(head).toEqual(header)
      return rows
    }
    const fromApi = (from: number, to: number) =>
      [...perDay.entries()]
        .filter(([date]) => date >= isoDay(from) && date < isoDay(to))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([date, n]) => ['bin', 'unassigned', date, String(n)])
    expect(fromApi(day - 2, day + 1)).toEqual([['bin', 'unassigned', today, String(Object.keys(FILL).length)]])
    expect(await rowsOn(day - 2, day + 1)).toEqual(fromApi(day - 2, day + 1))
    // A window that ends before today holds none of today's readings; one that starts tomorrow, nothing.
    expect(await rowsOn(day - 2, day)).toEqual(fromApi(day - 2, day))
    expect(await rowsOn(day - 2, day)).toEqual([])
    expect(await rowsOn(day + 1, day + 3)).toEqual([])
    expect((await as(admin, 'PUT', '/api/open-data/datasets/service-readings-daily', { published: false })).status).toBe(200)
  })

  it('limits each address: past the allowance the catalogue answers 429 with Retry-After', async () => {
    let refused: Response | undefined
    for (let i = 0; i < 70 && !refused; i++) {
      const res = await fetch(`${svc.url}/open`)
      await res.text()
      if (res.status === 429) refused = res
      else expect(res.status).toBe(200)
    }
    expect(refused, 'no 429 within 70 calls').toBeDefined()
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})
