import { randomBytes } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, ContractorRequest, Delivery } from '#devices'
import { freePort } from '../../scripts/free-port.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'
import { type GeoReportServer, geoReportServer } from '../outbox/geo-report-server.ts'

const H = 3_600_000

/**
 * Acceptance 2 of issue 14: an in-test GeoReport v2 server receives the service request for a
 * bin-not-collected alert with the right service code and location; its status changes show on
 * the alert; a 5xx is retried; a 4xx is dead-lettered with the server's message (and can be replayed).
 */
describe('Open311 out: a missed bin becomes a service request on the contractor’s GeoReport v2 endpoint', () => {
  let svc: TestService
  let server: GeoReportServer
  const apiKey = randomBytes(16).toString('hex')
  const devices: MqttClient[] = []

  const json = async <T>(path: string, init?: RequestInit) => {
    const res = await svc.api(path, init)
    expect(res.status, `${path}: ${res.status}`).toBeLessThan(300)
    return (await res.json()) as T
  }
  const contractor = (alertId: string) => json<ContractorRequest[]>(`/api/alerts/${alertId}/contractor`)
  const deliveries = () => json<Delivery[]>('/api/deliveries?target=open311')

  /** A bin on the daily round, over half full and never emptied for three days: bin-not-collected. */
  async function missedBin(id: string, latitude: number, longitude: number): Promise<Alert> {
    const b = await svc.provision({ id, type: 'bin', site: 'high-street', name: `Bin ${id} outside 12 High Street`, latitude, longitude })
    const onRound = ((await json<{ deviceIds: string[] }>('/api/rounds/daily')).deviceIds ?? []).concat(id)
    expect((await svc.api('/api/rounds/daily/bins', { method: 'PUT', body: JSON.stringify({ deviceIds: onRound }) })).status).toBe(200)
    const device = await connectDevice(svc.mqttUrl, b.id, b.secret)
    devices.push(device)
    const now = Date.now()
    for (let t = now - 72 * H; t < now - 2 * H; t += H)
      await device.publishAsync(
        telemetryTopic({ id, type: 'bin', site: 'high-street' }),
        JSON.stringify({ ts: t, readings: { fillingLevel: 0.62, temperature: 9, batteryPct: 80, tilted: false } }),
        { qos: 1 },
      )
    return waitFor(
      async () => (await json<Alert[]>(`/api/alerts?deviceId=${id}&ruleId=bin-not-collected`)).find((a) => a.status === 'active'),
      5_000,
    )
  }

  beforeAll(async () => {
    server = geoReportServer(await freePort(), { apiKey, services: ['WM-MISSED'], jurisdictionId: 'kingston.gov.uk' })
    await server.listening
    svc = await startService({
      MQTT_DEVICE_RATE: '0',
      OPEN311_URL: server.url,
      OPEN311_API_KEY: apiKey,
      OPEN311_JURISDICTION_ID: 'kingston.gov.uk',
      OPEN311_SERVICE_CODES: 'bin-not-collected=WM-MISSED,bin-fire=FIRE',
      OPEN311_POLL_S: '0.2',
      WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      OUTBOX_BACKOFF_FIRST_MS: '200',
      OUTBOX_BACKOFF_MAX_MS: '1000',
    })
    const round = await svc.api('/api/rounds', {
      method: 'POST',
      body: JSON.stringify({
        id: 'daily',
        name: 'Every day',
        site: 'high-street',
        schedule: { weekdays: [1, 2, 3, 4, 5, 6, 7], time: '07:00' },
      }),
    })
    expect(round.status).toBe(201)
  })
  afterAll(async () => {
    for (const d of devices) await d.endAsync()
    await svc?.close()
    await server?.close()
  })

  it('sends the request once after a 5xx, shows its status on the alert, and leaves it to the contractor to close', async () => {
    server.failNext(503)
    const alert = await missedBin('bin-o311', 51.4123456, -0.3012345)

    // The first POST met a 503 and was retried: one request made, from the second POST.
    await waitFor(async () => server.requests.size === 1, 10_000)
    expect(server.posts).toHaveLength(2)
    const [made] = [...server.requests.values()]
    expect(made!.form).toMatchObject({
      service_code: 'WM-MISSED',
      lat: '51.412346',
      long: '-0.301235',
      address_string: 'Bin bin-o311 outside 12 High Street, high-street',
      api_key: apiKey,
      jurisdiction_id: 'kingston.gov.uk',
      'attribute[smartplace_alert_id]': alert.id,
      'attribute[device_id]': 'bin-o311',
      'attribute[rule]': 'bin-not-collected',
      'attribute[value]': '0.62',
    })
    expect(made!.form.description).toContain('Bin missed on its collection day: Bin bin-o311 outside 12 High Street (site high-street).')
    expect(made!.form.description).toContain('Reading: 62 % full.')
    expect(made!.form.description).not.toMatch(/<[a-z]/i)

    // The outcome is stored just after the contractor's answer, which the request above is seen before.
    await waitFor(async () => (await deliveries())[0]?.state === 'delivered', 10_000)
    const [delivery] = await deliveries()
    expect(delivery).toMatchObject({ channel: 'open311', target: 'open311', eventType: 'alert.raised', state: 'delivered', attempts: 2 })
    expect(delivery!.lastError).toContain('HTTP 503')

    // Polled: the alert shows the contractor's request.
    const open = await waitFor(async () => (await contractor(alert.id)).find((c) => c.checkedAt !== null), 5_000)
    expect(open).toMatchObject({
      system: 'open311',
      serviceCode: 'WM-MISSED',
      serviceRequestId: made!.id,
      status: 'open',
      summary: `With the contractor: request ${made!.id}, status open`,
    })

    // Resolved here: nothing is sent to the contractor, whose request stays open and is still followed.
    const resolved = await svc.api(`/api/alerts/${alert.id}/resolve`, { method: 'POST', body: JSON.stringify({ note: 'crew says done' }) })
    expect(resolved.status).toBe(200)
    const polledAfter = server.gets.length
    await waitFor(async () => server.gets.length >= polledAfter + 3, 5_000)
    expect(server.posts).toHaveLength(2)
    expect(server.requests.get(made!.id)!.status).toBe('open')
    expect((await contractor(alert.id))[0]!.status).toBe('open')

    // The contractor closes it: the alert says so, in their words, and polling stops.
    server.setStatus(made!.id, 'closed', 'Emptied by crew 4', 'Veolia')
    const closed = await waitFor(async () => (await contractor(alert.id)).find((c) => c.status === 'closed'), 5_000)
    expect(closed).toMatchObject({
      statusNotes: 'Emptied by crew 4',
      agencyResponsible: 'Veolia',
      summary: `With Veolia: request ${made!.id}, status closed (Emptied by crew 4)`,
    })
    expect(closed!.updatedAt).toBe(server.requests.get(made!.id)!.updatedAt)
    const gets = server.gets.length
    await new Promise((r) => setTimeout(r, 800))
    expect(server.gets.length).toBe(gets)
  })

  it("dead-letters a 4xx with the server's message without retrying, and sends it on replay", async () => {
    server.refuse('bin-o311-b', 'Bin bin-o311-b is not on the contract')
    const before = server.posts.length
    const alert = await missedBin('bin-o311-b', 51.41, -0.3)
    const dead = await waitFor(async () => (await deliveries()).find((d) => d.state === 'dead'), 10_000)
    expect(dead.lastError).toBe('HTTP 400: Bin bin-o311-b is not on the contract')
    expect(dead.attempts).toBe(1)
    await new Promise((r) => setTimeout(r, 600))
    expect(server.posts.length).toBe(before + 1)
    expect(await contractor(alert.id)).toEqual([])

    // Put right at the contractor's end, the dead letter is replayed by an admin and goes through.
    server.accept('bin-o311-b')
    expect((await svc.api(`/api/deliveries/${dead.id}/replay`, { method: 'POST' })).status).toBe(200)
    const made = await waitFor(async () => (await contractor(alert.id))[0], 10_000)
    expect(made).toMatchObject({ status: 'open', serviceCode: 'WM-MISSED' })
    expect(server.requests.get(made.serviceRequestId!)!.form['attribute[smartplace_alert_id]']).toBe(alert.id)
  })
})
