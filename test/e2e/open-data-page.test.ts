import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keyboardAudit, launchChromium } from '../helpers/browser.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'
import { axeViolations, checkAtSizes, openPage, screenshot, scrollsSideways } from '../helpers/web.ts'

const PUBLISHER = 'Royal Borough of Kingston upon Thames'
const OGL = 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/'
const DAY = 86_400_000

interface Catalogue {
  'dct:publisher': { 'foaf:name': string }
  'dcat:dataset': {
    'dct:identifier': string
    'dct:license': { '@id': string }
    'dct:temporal'?: { 'dcat:startDate': { '@value': string }; 'dcat:endDate': { '@value': string } }
  }[]
}

describe('the open data catalogue for people and for portals at /open (issue 13, what to build 3 and 4)', () => {
  let svc: TestService
  let browser: Browser
  const first = Date.now() - 3 * DAY

  beforeAll(async () => {
    svc = await startService({ OPEN_DATA_PUBLISHER: PUBLISHER })
    const bin = await svc.provision({
      id: 'op-1',
      type: 'bin',
      name: 'Bin by the library, Church Street',
      site: 'town',
      latitude: 51.41,
      longitude: -0.3,
    })
    const client = await connectDevice(svc.mqttUrl, bin.id, bin.secret)
    for (const [i, ts] of [first, first + DAY, Date.now() - 60_000].entries()) {
      const readings = { fillingLevel: 0.2 + i * 0.2, temperature: 9, batteryPct: 80, tilted: false }
      await client.publishAsync(telemetryTopic(bin), JSON.stringify({ ts, readings }), { qos: 1 })
    }
    await client.endAsync()
    await waitFor(async () => {
      const r = (await (await svc.api(`/api/devices/op-1/readings?every=1d&from=${new Date(first - DAY).toISOString()}`)).json()) as {
        points: unknown[]
      }
      return r.points.length >= 3
    })
    for (const id of ['bin-fill-latest', 'bin-fill-daily']) {
      const res = await svc.api(`/api/open-data/datasets/${id}`, { method: 'PUT', body: JSON.stringify({ published: true }) })
      expect(res.status).toBe(200)
    }
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await svc?.close()
  })

  it('gives a harvester DCAT JSON-LD with the configured publisher, the licence and each history dataset’s temporal coverage', async () => {
    for (const accept of [undefined, 'application/ld+json', '*/*', 'application/json, text/html']) {
      const res = await fetch(`${svc.url}/open`, accept ? { headers: { accept } } : {})
      expect(res.headers.get('content-type'), String(accept)).toMatch(/^application\/ld\+json/)
      expect(res.headers.get('vary')).toMatch(/accept/i)
      const cat = (await res.json()) as Catalogue
      expect(cat['dct:publisher']['foaf:name']).toBe(PUBLISHER)
      expect(cat['dcat:dataset'].map((d) => d['dct:identifier'])).toEqual(['bin-fill-latest', 'bin-fill-daily'])
      expect(cat['dcat:dataset'].every((d) => d['dct:license']['@id'] === OGL)).toBe(true)
      const daily = cat['dcat:dataset'][1]!['dct:temporal']!
      expect(Date.parse(daily['dcat:startDate']['@value'])).toBe(first)
      expect(Date.parse(daily['dcat:endDate']['@value'])).toBeGreaterThan(Date.now() - 2 * 60_000)
      // The latest state covers no period: it is the state now.
      expect(cat['dcat:dataset'][0]!['dct:temporal']).toBeUndefined()
    }
  })

  it('documents every public dataset route under the "open data" tag, with its paging and window parameters', async () => {
    const doc = (await (await fetch(`${svc.url}/docs/json`)).json()) as {
      paths: Record<string, { get?: { tags?: string[]; parameters?: { name: string; in: string }[] } }>
    }
    const open = Object.entries(doc.paths).filter(([p]) => p.startsWith('/open/') && p !== '/open/page.css')
    expect(open.map(([p]) => p).sort()).toEqual(
      [
        '/open/bin-fill-daily.csv',
        '/open/bin-fill-daily.geojson',
        '/open/bin-fill-latest.csv',
        '/open/bin-fill-latest.geojson',
        '/open/bin-fill-latest.jsonld',
        '/open/energy-daily.csv',
        '/open/energy-daily.geojson',
        '/open/energy-daily.jsonld',
        '/open/energy-half-hourly.csv',
        '/open/energy-half-hourly.geojson',
        '/open/energy-half-hourly.jsonld',
        '/open/service-health.csv',
        '/open/service-readings-daily.csv',
      ].sort(),
    )
    for (const [path, item] of [...open, ['/open', doc.paths['/open']!] as const]) {
      expect(item.get?.tags, path).toEqual(['open data'])
    }
    for (const [path, item] of open) {
      const query = (item.get?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
      expect(query, path).toEqual(expect.arrayContaining(['limit', 'cursor', 'from', 'to']))
    }
  })

  it('shows a person each published dataset in plain English with a sample, on a phone, accessibly and within the CSP', async () => {
    const { context, page, problems } = await openPage(browser, { width: 320, height: 640 })
    try {
      const res = await page.goto(`${svc.url}/open`)
      expect(res?.headers()['content-type']).toMatch(/^text\/html/)
      await page.getByRole('heading', { level: 1, name: `Open data from ${PUBLISHER}` }).waitFor()
      expect(await page.getByRole('heading', { level: 2 }).allTextContents()).toEqual([
        'Street bin fill levels (latest)',
        'Street bin fill levels (daily history)',
      ])
      const latest = page.getByRole('region', { name: 'Sample of Street bin fill levels (latest)' })
      await expect.poll(() => latest.textContent()).toContain('Bin by the library, Church Street')
      expect(await page.getByRole('link', { name: 'Open Government Licence v3.0' }).count()).toBe(2)
      expect(
        await page.getByText('Housing data (homes, boilers, room sensors, damp, repairs cases, addresses) is never published.').count(),
      ).toBe(1)
      const csv = page.getByRole('link', { name: 'CSV (spreadsheet)' }).first()
      expect(await csv.getAttribute('href')).toBe(`${svc.url}/open/bin-fill-latest.csv`)
      expect(await scrollsSideways(page)).toBe(false)
      expect(await axeViolations(page)).toEqual([])
      await screenshot(page, 'open-data-page')
      // And on a phone and a desktop (issue 11, acceptance 2), every link reached by Tab with its focus shown.
      expect(await checkAtSizes(page, 'open-data-page')).toEqual([])
      const audit = await keyboardAudit(page)
      expect(audit.problems).toEqual([])
      expect(audit.reached).toEqual(expect.arrayContaining(['a "CSV (spreadsheet)"']))
      expect(await problems()).toEqual([])
    } finally {
      await context.close()
    }
  })
})
