import { existsSync, statSync } from 'node:fs'
import { type IncomingHttpHeaders, request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATASETS, DEVICE_TYPE_NAMES, DEVICE_TYPES, Device, dataClassOf } from '#devices'
import { parseCsv } from '../helpers/csv.ts'
import { isoDay, londonToday } from '../helpers/open-data-seed.ts'
import { signedInPerson } from '../helpers/people.ts'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'
import { WEB_ROOT } from '../helpers/web.ts'

const ESTATE = 'hawthorn-estate'
/** The estate as an area (kind estate): its id and name are housing's, never the street's. */
const ESTATE_AREA = { id: 'hawthorn-homes', name: 'Hawthorn Estate tenants' }
/** A ward holding the estate's site (the high street is in no area): the public figures may name it. */
const WARD = { id: 'riverside-ward', name: 'Riverside ward' }
/** Homes: what must never leave the service without sign-in, whatever is published or asked for. */
const HOMES = [
  { id: 'hh-boiler-14', type: 'boiler', name: 'Boiler, 14 Quillfeather Court', uprn: '100023336956' },
  { id: 'hh-room-14', type: 'room', name: 'Living room, 14 Quillfeather Court', uprn: '100023336956' },
  { id: 'hh-boiler-15', type: 'boiler', name: 'Boiler, 15 Quillfeather Court', uprn: '100023336957' },
] as const
/** A fault code no catalogue, document or bundle holds: seen anywhere public, it came from a boiler's reading. */
const FAULT_CODE = 'ZQ93X'
/** A reading of every field of each housing type (the test below checks none is left out). */
const HOUSING_READINGS: Record<string, Record<string, unknown>> = {
  boiler: {
    flowTemp: 61.5,
    returnTemp: 44.5,
    pressureBar: 1.35,
    burnerOn: true,
    lockout: false,
    faultCode: FAULT_CODE,
    roomHumidity: 71,
    outsideTemp: 3.5,
    heatingDemand: true,
  },
  room: { temperature: 17.5, humidity: 78, batteryPct: 64 },
}
const HOUSING_VALUES = [...HOMES.flatMap((h) => [h.id, h.name, h.uprn]), 'Quillfeather Court', ESTATE_AREA.id, ESTATE_AREA.name, FAULT_CODE]

/** Housing types, as the access policy classes them (boiler, room). */
const HOUSING_TYPES = DEVICE_TYPE_NAMES.filter((t) => dataClassOf(t) === 'housing')
/** The device types an open dataset reads from (bin, meter). */
const PUBLIC_TYPES = DEVICE_TYPE_NAMES.filter((t) => DATASETS.some((d) => d.source === t))
const fieldsOf = (types: readonly string[]) => types.flatMap((t) => Object.keys(DEVICE_TYPES[t as keyof typeof DEVICE_TYPES].fields))
/**
 * The reading fields only homes have (a field a published type shares, such as temperature, is
 * not housing's to hide), and the device record's UPRN, which only a home carries.
 */
const HOUSING_FIELDS = [...new Set(fieldsOf(HOUSING_TYPES))].filter((f) => !fieldsOf(PUBLIC_TYPES).includes(f)).concat(['uprn'])

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const TODAY = londonToday()
/** Crafted queries a curious or hostile caller might try on any public route. */
const QUERIES = [
  '',
  '?type=boiler',
  '?type=room&fields=uprn,name,pressureBar,humidity',
  `?site=${ESTATE}`,
  '?id=hh-boiler-14&include=housing&source=boiler',
  '?dataset=boiler&format=csv&all=true',
  // The open datasets' own parameters, as a caller might bend them.
  `?from=${isoDay(TODAY + 1 - 400)}&to=${isoDay(TODAY + 1)}`,
  `?from=${isoDay(TODAY + 1 - 400)}&to=${isoDay(TODAY + 1)}&limit=1`,
  `?from=${isoDay(TODAY + 1)}&to=${isoDay(TODAY - 30)}`,
  `?from=yesterday&to=${encodeURIComponent('2026-13-45')}`,
  `?from=${encodeURIComponent("2026-01-01' OR 1=1 --")}&to=${encodeURIComponent('"; DROP MEASUREMENT boiler; --')}`,
  '?limit=1',
  '?limit=-1&cursor=',
  `?limit=1&cursor=${b64(['hh-boiler-14'])}`,
  `?limit=1&cursor=${b64(['boiler', ESTATE_AREA.id])}`,
  `?cursor=${b64(['boiler', ESTATE_AREA.id, isoDay(TODAY)])}`,
  `?limit=1&cursor=${b64([''])}`,
  `?cursor=${b64(['', ''])}`,
  `?cursor=${b64(['', '', ''])}`,
  '?cursor=not-a-cursor!',
]

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** A type name as a whole value: a CSV cell, a JSON string, a table cell of the page. */
function namedTypes(a: Answer): string[] {
  const type = String(a.headers['content-type'] ?? '')
  const found = new Set<string>()
  if (type.startsWith('text/csv')) {
    for (const cell of parseCsv(a.body).flat()) if (HOUSING_TYPES.includes(cell as never)) found.add(cell)
  } else if (/json/.test(type) && a.body !== '') {
    const walk = (v: unknown): void => {
      if (typeof v === 'string') {
        if (HOUSING_TYPES.includes(v as never)) found.add(v)
      } else if (Array.isArray(v)) v.forEach(walk)
      else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk)
    }
    walk(JSON.parse(a.body))
  } else {
    for (const m of a.body.matchAll(/<td>\s*([^<]*?)\s*<\/td>/g)) if (HOUSING_TYPES.includes(m[1] as never)) found.add(m[1]!)
  }
  return [...found]
}

describe('open data privacy: no public route ever shows a home (issue 13, acceptance 2)', () => {
  let svc: TestService
  let port: number
  let publicRoutes: { method: string; url: string }[]
  /** Each documentation and web-app route's answer before any home, area or reading existed. */
  const unseeded = new Map<string, string>()

  /** Loopback has all of 127.0.0.0/8: each caller below comes from an address of its own, with its own rate allowance. */
  let callers = 0
  const newAddress = () => {
    callers++
    return `127.3.${Math.floor(callers / 250)}.${(callers % 250) + 1}`
  }
  /** A plain HTTP call (no redirect followed, nothing compressed) from a loopback address. */
  const call = (from: string, method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers, localAddress: from }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          text += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
      })
      req.on('error', reject)
      req.setTimeout(20_000, () => req.destroy(new Error(`no answer in 20 s to ${method} ${path}`)))
      req.end(body)
    })

  /** Routes that serve the API's description or the web app's files: the same bytes for every council, whatever it holds. */
  const isWebFile = (url: string) => {
    const file = join(WEB_ROOT, url === '/' ? 'index.html' : url)
    return file.startsWith(WEB_ROOT) && existsSync(file) && statSync(file).isFile()
  }
  const isVocabulary = (url: string) => url === '/docs' || url.startsWith('/docs/') || isWebFile(url)
  const pathOf = (url: string) => url.replace(/:[A-Za-z]+/g, HOMES[0].id).replace(/\*$/, 'swagger-ui.css')
  const ACCEPTS = ['*/*', 'text/html'] as const

  beforeAll(async () => {
    expect(existsSync(join(WEB_ROOT, 'index.html')), 'the web app is not built: run `npm run build:web`').toBe(true)
    // The web app served as in use, so its static files are public routes the scan reads too.
    svc = await startService({}, { webRoot: WEB_ROOT })
    port = Number(new URL(svc.url).port)
    // Public as the service itself decides it (the access hook, and the authorisation matrix):
    // declared public, or outside /api with no declaration (the documentation, the web app's files).
    publicRoutes = svc.service.routes
      .filter((r) => r.access === 'public' || (r.access === undefined && !r.url.startsWith('/api')))
      .map((r) => ({ method: r.method, url: r.url }))
    for (const r of publicRoutes.filter((x) => isVocabulary(x.url)))
      for (const accept of ACCEPTS)
        unseeded.set(`${r.method} ${r.url} ${accept}`, (await call(newAddress(), r.method, pathOf(r.url), { accept })).body)

    const registry = svc.service.registry
    const admin = await signedInPerson(registry, [{ role: 'admin', areas: null }])
    const put = async (path: string, body: unknown) => {
      const res = await fetch(`${svc.url}${path}`, {
        method: 'PUT',
        headers: { ...admin.headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      expect(res.status, `${path}: ${await res.clone().text()}`).toBeLessThan(300)
      return res.json() as Promise<Record<string, unknown>>
    }
    expect(await put(`/api/areas/${ESTATE_AREA.id}`, { name: ESTATE_AREA.name, kind: 'estate', sites: [ESTATE] })).toMatchObject({
      kind: 'estate',
    })
    await put(`/api/areas/${WARD.id}`, { name: WARD.name, kind: 'ward', sites: [ESTATE] })

    const send = async (d: { id: string; secret: string; site: string; type: string }, readings: Record<string, unknown>) => {
      const client = await connectDevice(svc.mqttUrl, d.id, d.secret)
      await client.publishAsync(telemetryTopic(d), JSON.stringify({ ts: Date.now() - 60_000, readings }), { qos: 1 })
      await client.endAsync()
    }
    for (const h of HOMES)
      await send(await svc.provision({ ...h, site: ESTATE, latitude: 51.5, longitude: -0.1 }), HOUSING_READINGS[h.type]!)
    // Street bins, one on the estate and one on the high street: public street furniture, and proof
    // below that the scan reads real data (and, being two, that paging walks past a first page).
    const bins = [
      { id: 'pb-1', name: 'Bin by the estate gate', site: ESTATE, latitude: 51.5, longitude: -0.1 },
      { id: 'pb-2', name: 'Bin on the high street', site: 'high-street', latitude: 51.51, longitude: -0.11 },
    ]
    for (const b of bins)
      await send(await svc.provision({ ...b, type: 'bin' }), { fillingLevel: 0.5, temperature: 9, batteryPct: 80, tilted: false })
    await waitFor(async () => {
      const states = await Promise.all(
        [...HOMES.map((h) => h.id), ...bins.map((b) => b.id)].map(
          async (id) => ((await (await svc.api(`/api/devices/${id}`)).json()) as { state: { latest: unknown } }).state,
        ),
      )
      return states.every((s) => s.latest)
    })
    // The homes' readings are in InfluxDB, where the daily counts are read from: a dataset that
    // counted every type would show them.
    await waitFor(
      async () =>
        (await countPoints(svc.influxUrl, svc.db, 'boiler')) === 2 &&
        (await countPoints(svc.influxUrl, svc.db, 'room')) === 1 &&
        (await countPoints(svc.influxUrl, svc.db, 'bin')) === 2,
      10_000,
    )

    // Every dataset on: whatever an administrator publishes, homes stay out.
    const list = (await (await fetch(`${svc.url}/api/open-data/datasets`, { headers: admin.headers })).json()) as { id: string }[]
    expect(list.map((d) => d.id)).toEqual(DATASETS.map((d) => d.id))
    for (const { id } of list) await put(`/api/open-data/datasets/${id}`, { published: true })
  })
  afterAll(() => svc?.close())

  it('derives the housing fields from the device types, and sends a reading of every one of them', async () => {
    expect(HOUSING_TYPES).toEqual(['boiler', 'room'])
    expect(PUBLIC_TYPES).toEqual(['bin', 'meter'])
    expect(HOUSING_FIELDS).toEqual(expect.arrayContaining(['pressureBar', 'faultCode', 'outsideTemp', 'heatingDemand', 'humidity', 'uprn']))
    // Shared with a bin: not housing's alone.
    expect(HOUSING_FIELDS).not.toContain('temperature')
    expect(Object.keys(Device.shape)).toContain('uprn')
    for (const t of HOUSING_TYPES) expect(Object.keys(HOUSING_READINGS[t]!).sort(), t).toEqual(Object.keys(DEVICE_TYPES[t].fields).sort())
    // The boiler's reading arrived whole, its fault code with it.
    const state = ((await (await svc.api('/api/devices/hh-boiler-14')).json()) as { state: { latest: { readings: unknown } } }).state
    expect(state.latest.readings).toMatchObject({ faultCode: FAULT_CODE, outsideTemp: 3.5, heatingDemand: true })
  })

  it('finds the public routes as the service decides them, documentation and web app included, and shows the published bins', async () => {
    const urls = publicRoutes.map((r) => r.url)
    expect(urls).toEqual(
      expect.arrayContaining(['/open', '/open/bin-fill-latest.csv', '/open/service-readings-daily.csv', '/health', '/docs', '/docs/json']),
    )
    expect(urls).toContain('/index.html')
    expect(urls.filter((u) => u.startsWith('/assets/')).length).toBeGreaterThan(3)
    // The scan below would pass on empty answers; this shows the open data answers hold real rows.
    const from = newAddress()
    for (const f of ['csv', 'geojson', 'jsonld']) expect((await call(from, 'GET', `/open/bin-fill-latest.${f}`)).body).toContain('pb-1')
    expect((await call(from, 'GET', '/open')).body).toContain('bin-fill-latest')
    // The page for people shows a sample of each dataset: the bin is in it.
    expect((await call(from, 'GET', '/open', { accept: 'text/html' })).body).toContain('pb-1')
    // The per-type figures name the bins' type and the ward, so a housing type or the estate would show there.
    const health = parseCsv((await call(from, 'GET', '/open/service-health.csv')).body)
    expect(health.slice(1).map((r) => [r[0], r[1], r[3]])).toEqual([
      ['bin', 'riverside-ward', '1'],
      ['bin', 'unassigned', '1'],
    ])
    const daily = parseCsv((await call(from, 'GET', '/open/service-readings-daily.csv')).body)
    expect(daily.slice(1)).toEqual([
      ['bin', 'riverside-ward', isoDay(TODAY), '1'],
      ['bin', 'unassigned', isoDay(TODAY), '1'],
    ])
  })

  it('shows no housing device id, UPRN, home name, estate area, housing reading field or housing type on any public route, whatever the query', async () => {
    const leaks: string[] = []
    const throttled: string[] = []
    let answered = 0
    for (const r of publicRoutes) {
      for (const accept of ACCEPTS) {
        // One address per route and Accept: the scan must see every real answer, not a 429.
        const from = newAddress()
        for (const q of QUERIES) {
          const path = `${pathOf(r.url)}${q}`
          const withBody = r.method !== 'GET' && r.method !== 'HEAD'
          const res = await call(
            from,
            r.method,
            path,
            { accept, ...(withBody ? { 'content-type': 'application/json' } : {}) },
            withBody ? JSON.stringify({ type: 'boiler', fields: ['uprn'], site: ESTATE }) : undefined,
          )
          answered++
          const what = `${r.method} ${path} [${accept}] (${res.status})`
          if (res.status === 429) throttled.push(what)
          for (const v of HOUSING_VALUES) if (res.body.includes(v)) leaks.push(`${what} shows ${v}`)
          const named = [...HOUSING_FIELDS.filter((f) => res.body.includes(f)), ...namedTypes(res)]
          // The API's description and the web app's code name the API's fields and types (its vocabulary,
          // no values): allowed only while the answer is byte for byte what it was before any home existed.
          const vocabulary = isVocabulary(r.url) && res.body === unseeded.get(`${r.method} ${r.url} ${accept}`)
          if (named.length > 0 && !vocabulary) leaks.push(`${what} names ${named.join(', ')}`)
        }
      }
    }
    expect(publicRoutes.length).toBeGreaterThan(10)
    expect(answered).toBe(publicRoutes.length * ACCEPTS.length * QUERIES.length)
    expect(throttled).toEqual([])
    expect(leaks).toEqual([])
  })

  it('walks every dataset, format and window with limit=1 by its Link rel="next" to the end, each page free of homes', async () => {
    const leaks: string[] = []
    const pagesOf: Record<string, number> = {}
    const windows = ['', `&from=${isoDay(TODAY + 1 - 400)}&to=${isoDay(TODAY + 1)}`]
    for (const r of publicRoutes.filter((x) => x.method === 'GET' && /^\/open\/[a-z-]+\.(csv|geojson|jsonld)$/.test(x.url))) {
      const dataset = DATASETS.find((d) => r.url.startsWith(`/open/${d.id}.`))!
      for (const w of dataset.history ? windows : ['']) {
        const from = newAddress()
        let next: string | null = `${r.url}?limit=1${w}`
        let pages = 0
        while (next) {
          expect(pages, `${r.url}${w}: too many pages`).toBeLessThan(20)
          const res = await call(from, 'GET', next)
          expect(res.status, `${next}: ${res.body}`).toBe(200)
          pages++
          for (const v of HOUSING_VALUES) if (res.body.includes(v)) leaks.push(`${next} shows ${v}`)
          const named = [...HOUSING_FIELDS.filter((f) => res.body.includes(f)), ...namedTypes(res)]
          if (named.length > 0) leaks.push(`${next} names ${named.join(', ')}`)
          const link = res.headers.link
          next = link === undefined ? null : /^<(\/open\/[^>]+)>; rel="next"$/.exec(String(link))![1]!
        }
        pagesOf[`${r.url}${w ? ' (400 days)' : ''}`] = pages
      }
    }
    // Two bins, two (type, area) rows: these walks went past their first page.
    expect(pagesOf['/open/bin-fill-latest.csv']).toBe(2)
    expect(pagesOf['/open/service-health.csv']).toBe(2)
    expect(pagesOf['/open/service-readings-daily.csv (400 days)']).toBe(2)
    expect(pagesOf['/open/bin-fill-daily.geojson (400 days)']).toBe(2)
    expect(leaks).toEqual([])
  })
})
