import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signedInPerson } from '../helpers/people.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

const ESTATE = 'hawthorn-estate'
/** Homes: what must never leave the service without sign-in, whatever is published or asked for. */
const HOMES = [
  { id: 'hh-boiler-14', type: 'boiler', name: 'Boiler, 14 Hawthorn House', uprn: '100023336956' },
  { id: 'hh-room-14', type: 'room', name: 'Living room, 14 Hawthorn House', uprn: '100023336956' },
  { id: 'hh-boiler-15', type: 'boiler', name: 'Boiler, 15 Hawthorn House', uprn: '100023336957' },
] as const
const HOUSING_VALUES = [...HOMES.flatMap((h) => [h.id, h.name, h.uprn]), 'Hawthorn House']
/** Reading fields only boilers and rooms have. */
const HOUSING_FIELDS = ['pressureBar', 'flowTemp', 'returnTemp', 'burnerOn', 'lockout', 'roomHumidity', 'humidity', 'uprn']
/** Crafted queries a curious or hostile caller might try on any public route. */
const QUERIES = [
  '',
  '?type=boiler',
  '?type=room&fields=uprn,name,pressureBar,humidity',
  `?site=${ESTATE}`,
  '?id=hh-boiler-14&include=housing&source=boiler',
  '?dataset=boiler&format=csv&all=true',
]

describe('open data privacy: no public route ever shows a home (issue 13, acceptance 2)', () => {
  let svc: TestService
  let publicRoutes: { method: string; url: string }[]

  beforeAll(async () => {
    svc = await startService()
    const registry = svc.service.registry
    const admin = await signedInPerson(registry, [{ role: 'admin', areas: null }])
    for (const h of HOMES) {
      const d = await svc.provision({ ...h, site: ESTATE, latitude: 51.5, longitude: -0.1 })
      const readings =
        h.type === 'boiler'
          ? { flowTemp: 61.5, returnTemp: 44.5, pressureBar: 1.35, burnerOn: true, lockout: false, roomHumidity: 71 }
          : { temperature: 17.5, humidity: 78 }
      const client = await connectDevice(svc.mqttUrl, d.id, d.secret)
      await client.publishAsync(telemetryTopic(d), JSON.stringify({ ts: Date.now() - 60_000, readings }), { qos: 1 })
      await client.endAsync()
    }
    // A street bin on the same estate: public street furniture, and proof below that the scan reads real data.
    const bin = await svc.provision({
      id: 'pb-1',
      type: 'bin',
      name: 'Bin by the estate gate',
      site: ESTATE,
      latitude: 51.5,
      longitude: -0.1,
    })
    const client = await connectDevice(svc.mqttUrl, bin.id, bin.secret)
    const readings = { fillingLevel: 0.5, temperature: 9, batteryPct: 80, tilted: false }
    await client.publishAsync(telemetryTopic(bin), JSON.stringify({ ts: Date.now() - 60_000, readings }), { qos: 1 })
    await client.endAsync()
    await waitFor(async () => {
      const states = await Promise.all(
        [...HOMES.map((h) => h.id), 'pb-1'].map(
          async (id) => ((await (await svc.api(`/api/devices/${id}`)).json()) as { state: { latest: unknown } }).state,
        ),
      )
      return states.every((s) => s.latest)
    })

    // Every dataset on: whatever an administrator publishes, homes stay out.
    const list = (await (await fetch(`${svc.url}/api/open-data/datasets`, { headers: admin.headers })).json()) as { id: string }[]
    expect(list.length).toBeGreaterThanOrEqual(5)
    for (const { id } of list) {
      const res = await fetch(`${svc.url}/api/open-data/datasets/${id}`, {
        method: 'PUT',
        headers: { ...admin.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ published: true }),
      })
      expect(res.status, id).toBe(200)
      await res.arrayBuffer()
    }

    // Fastify's own table of every route, as registered: a public route added later is covered too.
    publicRoutes = svc.service.routes.filter((r) => r.access === 'public').map((r) => ({ method: r.method, url: r.url }))
  })
  afterAll(() => svc?.close())

  const pathOf = (url: string) => url.replace(/:[A-Za-z]+/g, HOMES[0].id).replace(/\*$/, 'swagger-ui.css')

  it('finds the public routes, the open data ones among them, and shows the published bin', async () => {
    const urls = publicRoutes.map((r) => r.url)
    expect(urls).toEqual(expect.arrayContaining(['/open', '/open/bin-fill-latest.csv', '/open/bin-fill-latest.geojson', '/health']))
    // The scan below would pass on empty answers; this shows the open data answers hold real rows.
    for (const f of ['csv', 'geojson', 'jsonld'])
      expect(await (await fetch(`${svc.url}/open/bin-fill-latest.${f}`)).text()).toContain('pb-1')
    expect(await (await fetch(`${svc.url}/open`)).text()).toContain('bin-fill-latest')
    // The page for people shows a sample of each dataset: the bin is in it.
    expect(await (await fetch(`${svc.url}/open`, { headers: { accept: 'text/html' } })).text()).toContain('pb-1')
  })

  it('shows no housing device id, UPRN, home name or housing reading field on any public route, whatever the query', async () => {
    const leaks: string[] = []
    const throttled: string[] = []
    for (const r of publicRoutes) {
      for (const [q, accept] of QUERIES.flatMap((q): [string, string][] => [
        [q, '*/*'],
        [q, 'text/html'],
      ])) {
        const path = `${pathOf(r.url)}${q}`
        const withBody = r.method !== 'GET' && r.method !== 'HEAD'
        const res = await fetch(`${svc.url}${path}`, {
          method: r.method,
          redirect: 'manual',
          headers: { accept, ...(withBody ? { 'content-type': 'application/json' } : {}) },
          ...(withBody ? { body: JSON.stringify({ type: 'boiler', fields: ['uprn'], site: ESTATE }) } : {}),
        })
        const body = await res.text()
        // A throttled answer would hide what the route shows: the scan must see every real answer
        // (a HEAD has no body to see; the invitation lookup's brute-force limit reaches it first).
        if (res.status === 429 && r.method !== 'HEAD') throttled.push(`${r.method} ${path}`)
        for (const v of HOUSING_VALUES) if (body.includes(v)) leaks.push(`${r.method} ${path} (${res.status}) shows ${v}`)
        // The API's own documentation names the signed-in API's fields (no values); every other answer must not.
        if (!r.url.startsWith('/docs'))
          for (const f of HOUSING_FIELDS) if (body.includes(f)) leaks.push(`${r.method} ${path} (${res.status}) names ${f}`)
      }
    }
    expect(publicRoutes.length).toBeGreaterThan(10)
    expect(throttled).toEqual([])
    expect(leaks).toEqual([])
  })
})
