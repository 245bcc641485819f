import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { io, type Socket } from 'socket.io-client'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import type { Alert, Incident } from '#devices'
import { createDatabase } from '../../scripts/postgres.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

// Issue 9, incidents: many devices of one site silent together are one incident, not an offline alert each.

/** Seconds between readings: offline after 3 missed intervals (devices/alerts/offline.ts), so after 6 s of silence. */
const INTERVAL_S = 2
const SILENT_AFTER_MS = 3 * INTERVAL_S * 1000
// The silence check runs every 200 ms; no per-device rate limit, so readings in quick succession are all taken.
const ENV = { OFFLINE_CHECK_MS: '200', MQTT_DEVICE_RATE: '0' }

interface Events {
  alertRaised: Alert[]
  alertCleared: Alert[]
  raised: Incident[]
  updated: Incident[]
  cleared: Incident[]
}

async function listen(svc: TestService): Promise<{ socket: Socket; events: Events }> {
  const events: Events = { alertRaised: [], alertCleared: [], raised: [], updated: [], cleared: [] }
  const socket = io(svc.url, { auth: { token: svc.token }, transports: ['websocket'] })
  socket.on('alert:raised', (a: Alert) => events.alertRaised.push(a))
  socket.on('alert:cleared', (a: Alert) => events.alertCleared.push(a))
  socket.on('incident:raised', (i: Incident) => events.raised.push(i))
  socket.on('incident:updated', (i: Incident) => events.updated.push(i))
  socket.on('incident:cleared', (i: Incident) => events.cleared.push(i))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', reject)
  })
  return { socket, events }
}

interface Room {
  id: string
  site: string
  type: 'room'
  secret: string
  client: MqttClient
}

async function provisionRooms(svc: TestService, site: string, ids: readonly string[]): Promise<Room[]> {
  const rooms: Room[] = []
  for (const id of ids) {
    const made = await svc.provision({ id, type: 'room', site, intervalS: INTERVAL_S })
    rooms.push({ id, site, type: 'room', secret: made.secret, client: await connectDevice(svc.mqttUrl, made.id, made.secret) })
  }
  return rooms
}

const publish = (r: Room, humidity = 50) =>
  r.client.publishAsync(telemetryTopic(r), JSON.stringify({ ts: Date.now(), readings: { temperature: 19.5, humidity } }), { qos: 1 })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.each(['sqlite', 'postgres'] as const)('a site gone silent together is one incident, on %s', (store) => {
  let svc: TestService
  let dropDb: (() => Promise<void>) | null = null
  let socket: Socket
  let events: Events
  let rooms: Room[] = []
  const site = 'north-street'
  const ids = ['ns-room-1', 'ns-room-2', 'ns-room-3', 'ns-room-4']

  beforeAll(async () => {
    let env: Record<string, string> = { ...ENV }
    if (store === 'postgres') {
      const db = await createDatabase(inject('postgresUrl'))
      dropDb = db.drop
      env = { ...env, DATABASE_URL: db.url }
    }
    svc = await startService(env)
    expect(svc.service.registry.dialect).toBe(store)
    ;({ socket, events } = await listen(svc))
    rooms = await provisionRooms(svc, site, ids)
  })

  afterAll(async () => {
    socket?.close()
    for (const r of rooms) await r.client.endAsync()
    await svc?.close()
    await dropDb?.()
  })

  const get = async <T>(path: string) => {
    const res = await svc.api(path)
    expect(res.status).toBe(200)
    return (await res.json()) as T
  }
  const offlineAlertsOf = (list: Alert[]) => list.filter((a) => a.ruleId === 'device-offline' && a.site === site)

  it('raises one incident with their offline alerts grouped under it, announced once, and clears it as they return', async () => {
    // One reading each (four of four devices: over both the default share and a count of at least two), then silence.
    // Taken before publishing: each device was last heard after this, so its silence is measured from later.
    const quietFrom = Date.now()
    await Promise.all(rooms.map((r) => publish(r)))

    // All four grouped under it once each has missed its intervals.
    const listed = await waitFor(async () => {
      const list = await get<Incident[]>(`/api/incidents?site=${site}`)
      return list.length === 1 && list[0]!.silent === 4 ? list : null
    }, SILENT_AFTER_MS + 10_000)
    expect(Date.now() - quietFrom).toBeGreaterThan(SILENT_AFTER_MS)
    const incident = listed[0]!
    expect(incident).toMatchObject({ site, kind: 'site-silent', status: 'open', clearedAt: null, devices: 4, silent: 4 })
    // Several more silence checks: still one incident, no second one, no alert of its own for any device.
    await sleep(1_000)
    expect(await get<Incident[]>(`/api/incidents?site=${site}`)).toEqual([incident])
    expect(await get<Incident[]>(`/api/incidents?status=open`)).toEqual([incident])
    expect(await get<Incident[]>(`/api/incidents?status=cleared`)).toEqual([])

    expect(events.raised).toHaveLength(1)
    // Announced once its first devices were grouped under it, so the event already carries their counts. The
    // four readings arrive a few ms apart, and a silence check (every 200 ms) can fall between them: then the
    // incident opens with the devices past their threshold and the others join at the next check, announced
    // as updates. Either way, each announcement counts more devices than the last, and the last is the incident.
    const raised = events.raised[0]!
    expect(raised).toMatchObject({ id: incident.id, site, status: 'open', openedAt: incident.openedAt })
    expect(raised.title).toBe(`4 devices at ${site} stopped reporting together`)
    const announced = [raised, ...events.updated.filter((i) => i.id === incident.id)]
    for (const [i, a] of announced.entries()) {
      expect(a.devices).toBe(a.silent)
      expect(a.devices).toBeGreaterThanOrEqual(i === 0 ? 1 : announced[i - 1]!.devices + 1)
    }
    expect(announced.at(-1)).toEqual(incident)
    expect(offlineAlertsOf(events.alertRaised)).toEqual([])

    const detail = await get<Incident & { alerts: Alert[] }>(`/api/incidents/${incident.id}`)
    expect(detail).toMatchObject(incident)
    expect(detail.alerts.map((a) => a.deviceId).sort()).toEqual(ids)
    for (const a of detail.alerts) {
      expect(a).toMatchObject({
        ruleId: 'device-offline',
        site,
        deviceType: 'room',
        status: 'active',
        incidentId: incident.id,
        clearedAt: null,
      })
      expect(a.value).toBeGreaterThanOrEqual(SILENT_AFTER_MS / 1000)
    }
    // Every offline alert of the site is grouped: none stands on its own.
    const siteOffline = await get<Alert[]>(`/api/alerts?site=${site}&ruleId=device-offline`)
    expect(siteOffline.map((a) => a.incidentId)).toEqual(ids.map(() => incident.id))

    // They report again: their offline alerts clear, and with the last of them the incident.
    await Promise.all(rooms.map((r) => publish(r)))
    const cleared = await waitFor(() => events.cleared.find((i) => i.id === incident.id), 5_000)
    expect(cleared).toMatchObject({ id: incident.id, site, status: 'cleared', devices: 4, silent: 0 })
    expect(cleared.clearedAt).not.toBeNull()
    expect(Date.parse(cleared.clearedAt!)).toBeGreaterThanOrEqual(Date.parse(incident.openedAt))
    expect(events.cleared).toHaveLength(1)

    const after = await get<Incident & { alerts: Alert[] }>(`/api/incidents/${incident.id}`)
    expect(after).toMatchObject({ status: 'cleared', clearedAt: cleared.clearedAt, devices: 4, silent: 0 })
    expect(after.alerts).toHaveLength(4)
    for (const a of after.alerts) {
      expect(a).toMatchObject({ status: 'cleared', incidentId: incident.id })
      expect(a.clearedAt).not.toBeNull()
    }
    expect(await get<Incident[]>(`/api/incidents?site=${site}&status=open`)).toEqual([])
    expect(await get<Incident[]>(`/api/incidents?site=${site}&status=cleared`)).toEqual([cleared])
    // Neither their going nor their return was announced device by device.
    expect(offlineAlertsOf(events.alertRaised)).toEqual([])
    expect(offlineAlertsOf(events.alertCleared)).toEqual([])
    expect(events.raised).toHaveLength(1)
  })

  it('answers 404 for an incident that does not exist', async () => {
    const res = await svc.api('/api/incidents/00000000-0000-4000-8000-000000000000')
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
  })
})

describe('one silent device among others reporting is an ordinary offline alert', () => {
  let svc: TestService
  let socket: Socket
  let events: Events
  let rooms: Room[] = []
  let chatter: NodeJS.Timeout | undefined
  const site = 'mill-lane'

  beforeAll(async () => {
    svc = await startService(ENV)
    ;({ socket, events } = await listen(svc))
    rooms = await provisionRooms(svc, site, ['ml-room-1', 'ml-room-2', 'ml-room-3'])
  })

  afterEach(() => clearInterval(chatter))

  afterAll(async () => {
    socket?.close()
    for (const r of rooms) await r.client.endAsync()
    await svc?.close()
  })

  it('raises device-offline on its own, announced, with no incident; it clears when the device returns', async () => {
    const [silent, ...others] = rooms as [Room, ...Room[]]
    await Promise.all(rooms.map((r) => publish(r)))
    // The others keep reporting well within their interval.
    chatter = setInterval(() => {
      for (const r of others) publish(r).catch(() => {})
    }, 500)

    const alert = await waitFor(() => events.alertRaised.find((a) => a.ruleId === 'device-offline'), SILENT_AFTER_MS + 10_000)
    expect(alert).toMatchObject({ deviceId: silent.id, site, status: 'active', incidentId: null })
    await sleep(1_000)
    expect(events.alertRaised.filter((a) => a.ruleId === 'device-offline').map((a) => a.deviceId)).toEqual([silent.id])
    expect(events.raised).toEqual([])
    expect(await (await svc.api('/api/incidents')).json()).toEqual([])

    await publish(silent)
    const back = await waitFor(() => events.alertCleared.find((a) => a.id === alert.id), 5_000)
    expect(back).toMatchObject({ status: 'cleared', incidentId: null })
    expect(events.raised).toEqual([])
    expect(events.cleared).toEqual([])
  })
})

describe('an incident open across a restart clears as its devices return', () => {
  let svc: TestService | undefined
  let socket: Socket | undefined
  let rooms: Room[] = []
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-incident-restart-'))
  const site = 'canal-row'
  const ids = ['cr-room-1', 'cr-room-2', 'cr-room-3', 'cr-room-4']

  afterAll(async () => {
    socket?.close()
    for (const r of rooms) await r.client.endAsync()
    await svc?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('recounts it as some come back after the restart, and clears it with the last', async () => {
    const first = await startService(ENV, { dataDir })
    svc = first
    rooms = await provisionRooms(first, site, ids)
    await Promise.all(rooms.map((r) => publish(r)))
    const incident = await waitFor(async () => {
      const list = (await (await first.api(`/api/incidents?site=${site}`)).json()) as Incident[]
      return list.length === 1 && list[0]!.silent === 4 ? list[0] : null
    }, SILENT_AFTER_MS + 10_000)

    for (const r of rooms) await r.client.endAsync()
    await first.close()
    svc = undefined
    const second = await startService(ENV, { dataDir, db: first.db, token: first.token })
    svc = second
    const live = await listen(second)
    socket = live.socket
    rooms = await Promise.all(rooms.map(async (r) => ({ ...r, client: await connectDevice(second.mqttUrl, r.id, r.secret) })))

    // Half of them back: still open, two of four silent.
    await Promise.all(rooms.slice(0, 2).map((r) => publish(r)))
    const half = await waitFor(() => live.events.updated.find((i) => i.id === incident.id && i.silent === 2), 5_000)
    expect(half).toMatchObject({ status: 'open', devices: 4, silent: 2, clearedAt: null })
    const detail = (await (await second.api(`/api/incidents/${incident.id}`)).json()) as Incident & { alerts: Alert[] }
    expect(detail).toMatchObject({ status: 'open', devices: 4, silent: 2 })
    expect(detail.alerts.map((a) => [a.deviceId, a.status]).sort()).toEqual([
      ['cr-room-1', 'cleared'],
      ['cr-room-2', 'cleared'],
      ['cr-room-3', 'active'],
      ['cr-room-4', 'active'],
    ])

    await Promise.all(rooms.slice(2).map((r) => publish(r)))
    const cleared = await waitFor(() => live.events.cleared.find((i) => i.id === incident.id), 5_000)
    expect(cleared).toMatchObject({ status: 'cleared', devices: 4, silent: 0 })
    expect(cleared.clearedAt).not.toBeNull()
    expect((await (await second.api(`/api/incidents?site=${site}`)).json()) as Incident[]).toEqual([cleared])
    // The restart raised nothing new: no second incident, and no offline alert of its own.
    expect(live.events.raised).toEqual([])
    expect(live.events.alertRaised.filter((a) => a.ruleId === 'device-offline')).toEqual([])
    expect(live.events.alertCleared.filter((a) => a.ruleId === 'device-offline')).toEqual([])
  })
})
