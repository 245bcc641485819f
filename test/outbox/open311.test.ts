import { randomBytes } from 'node:crypto'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Delivery, type Device, GeoReportCreatedList, parseServiceCodes } from '#devices'
import { createOpen311Channel, describeAlert } from '../../outbox/open311-channel.ts'
import { createOpen311Client } from '../../outbox/open311-client.ts'
import { createOpen311Poller } from '../../outbox/open311-poller.ts'
import { createTargetPolicy } from '../../outbox/ssrf.ts'
import { freePort } from '../../scripts/free-port.ts'
import { parseConfig } from '../../service/config.ts'
import { createOpen311Store, type Open311Store } from '../../store/open311-store.ts'
import { waitFor } from '../helpers/service.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'
import { type GeoReportServer, geoReportServer } from './geo-report-server.ts'

const log = pino({ level: 'silent' })
const apiKey = randomBytes(8).toString('hex')
const bin: Device = {
  id: 'bin-7',
  type: 'bin',
  name: 'Bin by the library',
  site: 'market-square',
  latitude: 51.5,
  longitude: -0.25,
  uprn: null,
  intervalS: 900,
  createdAt: '2026-01-01T00:00:00.000Z',
  presence: 'online',
  lastSeen: null,
}
let n = 0
function delivery(ruleId: string, alertId = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`): Delivery {
  const data = {
    alertId,
    deviceId: bin.id,
    deviceType: 'bin',
    site: bin.site,
    ruleId,
    title: 'Bin on fire',
    severity: 'critical',
    status: 'active',
    value: 71,
    at: '2026-07-01T11:30:00.000Z',
    actor: 'system',
    note: null,
  }
  return {
    id: n,
    eventId: `evt_${n}`,
    eventType: 'alert.raised',
    channel: 'open311',
    target: 'open311',
    payload: JSON.stringify({ type: 'alert.raised', timestamp: data.at, data }),
    state: 'pending',
    attempts: 0,
    createdAt: data.at,
    firstAttemptAt: null,
    lastAttemptAt: null,
    nextAttemptAt: null,
    lastError: null,
    deliveredAt: null,
  }
}

describe('Open311 settings and words', () => {
  it('reads rule=SERVICE_CODE lists and refuses what it cannot read', () => {
    expect(parseServiceCodes(' bin-fire=FIRE, bin-not-collected=WM-MISSED ')).toEqual({
      'bin-fire': 'FIRE',
      'bin-not-collected': 'WM-MISSED',
    })
    expect(parseServiceCodes('')).toEqual({})
    expect(parseServiceCodes('bin-fire')).toMatch(/not rule=SERVICE_CODE/)
    expect(parseServiceCodes('bin-fire=FI RE')).toMatch(/not rule=SERVICE_CODE/)
  })

  it('needs both OPEN311_URL and OPEN311_SERVICE_CODES, or neither, and reports a bad list', () => {
    const base = { ADMIN_TOKEN: 'x'.repeat(40) }
    const only = parseConfig({ ...base, OPEN311_URL: 'https://contractor.example/open311/v2' })
    expect(only.ok).toBe(false)
    if (!only.ok) expect(only.errors.join('\n')).toMatch(/OPEN311_URL: Open311 needs both/)
    const bad = parseConfig({ ...base, OPEN311_URL: 'https://c.example/', OPEN311_SERVICE_CODES: 'fire' })
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.errors.join('\n')).toMatch(/OPEN311_SERVICE_CODES: "fire" is not rule=SERVICE_CODE/)
    const good = parseConfig({ ...base, OPEN311_URL: 'https://c.example/v2', OPEN311_SERVICE_CODES: 'bin-fire=FIRE' })
    expect(good.ok && good.config.OPEN311_SERVICE_CODES).toEqual({ 'bin-fire': 'FIRE' })
  })

  it('takes ids sent as numbers as strings, and refuses an answer with neither id nor token', () => {
    expect(GeoReportCreatedList.parse([{ service_request_id: 293944 }])[0]!.service_request_id).toBe('293944')
    expect(GeoReportCreatedList.safeParse([{ service_notice: 'thanks' }]).success).toBe(false)
    expect(GeoReportCreatedList.safeParse([]).success).toBe(false)
  })

  it('describes an alert in plain text, in London time, within 4,000 characters', () => {
    const data = JSON.parse(delivery('bin-fire').payload).data
    expect(describeAlert(data, bin)).toBe(
      'Bin on fire: Bin by the library (site market-square).\n' +
        'Raised by a smartplace sensor on 1 July 2026 at 12:30 (London time).\n' +
        'Reading: 71.\n' +
        `Alert ${data.alertId}, device bin-7.`,
    )
    expect(describeAlert({ ...data, deviceType: 'bin', value: 0.735 }, null)).toContain('device bin-7 (site market-square).\nRaised')
    expect(describeAlert({ ...data, value: 0.735 }, bin)).toContain('Reading: 74 % full.')
    expect(describeAlert({ ...data, title: 'x'.repeat(5000) }, bin)).toHaveLength(4000)
  })
})

describe.each(STORE_ADAPTERS)('Open311 channel and poller against an in-test GeoReport v2 server, store on %s', (_dialect, open) => {
  const s = freshStore(open, 'sp-open311-')
  let server: GeoReportServer
  let tokenServer: GeoReportServer
  const loopback = createTargetPolicy(['127.0.0.1'])
  const endpoint = (url: string) => ({ url, apiKey, jurisdictionId: undefined, timeoutMs: 2000 })

  beforeAll(async () => {
    server = geoReportServer(await freePort(), { apiKey, services: ['FIRE', 'WM-MISSED'] })
    tokenServer = geoReportServer(await freePort(), { apiKey, services: ['FIRE'], tokens: true, tokenDelayMs: 300 })
    await Promise.all([server.listening, tokenServer.listening])
  })
  afterAll(async () => {
    await server?.close()
    await tokenServer?.close()
  })

  const channelOn = (url: string, store: Open311Store, policy = loopback) =>
    createOpen311Channel({
      client: createOpen311Client(endpoint(url), policy),
      store,
      device: async (id) => (id === bin.id ? bin : null),
      serviceCodes: { 'bin-fire': 'FIRE', 'bin-knocked-over': 'NOT-OFFERED' },
    })

  it('makes one request per alert: a second send of the same alert (a retry after a crash, a replay) makes none', async () => {
    const store = createOpen311Store(s.store.db)
    const channel = channelOn(server.url, store)
    const d = delivery('bin-fire')
    const before = server.posts.length
    expect(await channel.send(d)).toEqual({ kind: 'delivered', status: 201 })
    expect(await channel.send(d)).toEqual({ kind: 'delivered', status: 200 })
    expect(server.posts.length).toBe(before + 1)
    const kept = await store.forAlert(JSON.parse(d.payload).data.alertId)
    expect(kept).toMatchObject({ serviceCode: 'FIRE', status: 'open', checkedAt: null })
    expect(server.requests.get(kept!.serviceRequestId!)!.form).toMatchObject({ lat: '51.5', long: '-0.25', service_code: 'FIRE' })
  })

  it('retries 5xx, 429 (with its Retry-After) and network errors; dead-letters 403 and 404 with the server’s words', async () => {
    const store = createOpen311Store(s.store.db)
    const channel = channelOn(server.url, store)
    server.failNext(500, 429, 403)
    expect(await channel.send(delivery('bin-fire'))).toEqual({
      kind: 'retry',
      error: 'HTTP 500: failing as the test asked (500)',
      afterMs: undefined,
    })
    expect(await channel.send(delivery('bin-fire'))).toEqual({
      kind: 'retry',
      error: 'HTTP 429: failing as the test asked (429)',
      afterMs: 2000,
    })
    expect(await channel.send(delivery('bin-fire'))).toEqual({ kind: 'dead', error: 'HTTP 403: failing as the test asked (403)' })
    // A code the server does not offer: its 404 says which.
    expect(await channel.send(delivery('bin-knocked-over'))).toEqual({
      kind: 'dead',
      error: 'HTTP 404: service_code NOT-OFFERED not found',
    })
    // A wrong key is refused by the server, and that is final.
    const wrongKey = createOpen311Channel({
      client: createOpen311Client({ ...endpoint(server.url), apiKey: 'wrong' }, loopback),
      store,
      device: async () => bin,
      serviceCodes: { 'bin-fire': 'FIRE' },
    })
    expect(await wrongKey.send(delivery('bin-fire'))).toEqual({ kind: 'dead', error: 'HTTP 403: Invalid api_key' })
    // Nobody listening: retried.
    const gone = channelOn(`http://127.0.0.1:${await freePort()}/v2`, store)
    expect(await gone.send(delivery('bin-fire'))).toMatchObject({ kind: 'retry', error: expect.stringMatching(/ECONNREFUSED/) })
    // A rule without a code (a replay after the setting changed) is dead, naming the setting.
    expect(await channel.send(delivery('boiler-pressure-low'))).toEqual({
      kind: 'dead',
      error: 'rule boiler-pressure-low has no service code in OPEN311_SERVICE_CODES',
    })
  })

  it('refuses a loopback endpoint that is not on the allow-list, without connecting to it', async () => {
    const store = createOpen311Store(s.store.db)
    const before = server.posts.length
    const refused = await channelOn(server.url, store, createTargetPolicy([])).send(delivery('bin-fire'))
    expect(refused).toMatchObject({ kind: 'dead', error: expect.stringMatching(/loopback address; list it in WEBHOOK_ALLOW_HOSTS/) })
    expect(server.posts.length).toBe(before)
  })

  it('follows a token to its id, then the status to closed, and stops asking once closed', async () => {
    const store = createOpen311Store(s.store.db)
    const channel = channelOn(tokenServer.url, store)
    const d = delivery('bin-fire')
    const alertId = JSON.parse(d.payload).data.alertId as string
    const changes: string[] = []
    const poller = createOpen311Poller({
      client: createOpen311Client(endpoint(tokenServer.url), loopback),
      store,
      pollMs: 100,
      log,
      onChange: (id) => changes.push(id),
    })
    poller.start()
    try {
      expect(await channel.send(d)).toEqual({ kind: 'delivered', status: 201 })
      expect(await store.forAlert(alertId)).toMatchObject({
        serviceRequestId: null,
        status: 'awaiting-id',
        summary: 'Sent to the contractor; waiting for their request number',
      })
      // The server has no id for 300 ms: the token is asked again until it has.
      const withId = await waitFor(async () => (await store.forAlert(alertId))?.serviceRequestId ?? null, 5_000)
      expect(tokenServer.gets.filter((g) => g.startsWith('/tokens/')).length).toBeGreaterThan(1)
      await waitFor(async () => (await store.forAlert(alertId))?.updatedAt != null, 5_000)
      tokenServer.setStatus(withId, 'closed', null)
      const closed = await waitFor(async () => {
        const r = await store.forAlert(alertId)
        return r?.status === 'closed' ? r : null
      }, 5_000)
      expect(closed.summary).toBe(`With the contractor: request ${withId}, status closed`)
      expect(changes.filter((c) => c === alertId).length).toBeGreaterThanOrEqual(2)
      const asked = tokenServer.gets.length
      await new Promise((r) => setTimeout(r, 400))
      expect(tokenServer.gets.length).toBe(asked)
      expect(await store.toCheck(10)).toEqual([])
    } finally {
      await poller.close()
    }
  })
})
