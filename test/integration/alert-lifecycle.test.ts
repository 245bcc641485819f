import { randomUUID } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, AlertChanged, AlertHistoryEntry } from '#devices'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

// Acceptance 3 of issue 9: the lifecycle through the API, in the history with actor and time, pushed live.
describe('alert lifecycle through the API and Socket.IO', () => {
  let svc: TestService
  let device: MqttClient
  let socket: Socket
  const raised: Alert[] = []
  const cleared: Alert[] = []
  const acknowledged: Alert[] = []
  const changes: AlertChanged[] = []
  const bin = { id: 'bin-lifecycle', type: 'bin', site: 'high-street' } as const

  beforeAll(async () => {
    svc = await startService()
    const made = await svc.provision(bin)
    device = await connectDevice(svc.mqttUrl, made.id, made.secret)
    socket = io(svc.url, { auth: { token: svc.token }, transports: ['websocket'] })
    socket.on('alert:raised', (a: Alert) => raised.push(a))
    socket.on('alert:cleared', (a: Alert) => cleared.push(a))
    socket.on('alert:acknowledged', (a: Alert) => acknowledged.push(a))
    socket.on('alert:changed', (c: AlertChanged) => changes.push(c))
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('connect_error', reject)
    })
  })

  afterAll(async () => {
    socket?.close()
    await device?.endAsync()
    await svc?.close()
  })

  let ts = Date.now() - 60_000
  const send = (fillingLevel: number) => {
    ts += 1000
    const payload = JSON.stringify({ ts, readings: { fillingLevel, temperature: 11, batteryPct: 90, tilted: false } })
    return device.publishAsync(telemetryTopic(bin), payload, { qos: 1 })
  }
  const post = async (path: string, body?: unknown) => {
    const res = await svc.api(path, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } } }
  }
  const get = async <T>(path: string) => (await (await svc.api(path)).json()) as T

  it('acknowledges with a comment, assigns, snoozes, resolves and reopens; the history and live clients see each', async () => {
    const started = Date.now()
    // bin-full raises on two readings at or over 95 % (devices/catalog/smart-bin.ts).
    await send(0.97)
    await send(0.97)
    const alert = await waitFor(() => raised.find((a) => a.ruleId === 'bin-full'), 5_000)
    const id = alert.id
    const base = `/api/alerts/${id}`
    expect(await get<Alert>(base)).toMatchObject({ id, status: 'active', deviceId: bin.id })

    const steps: [string, unknown, string, string][] = [
      ['acknowledge', { comment: 'crew passing at noon' }, 'acknowledged', 'acknowledged'],
      ['assign', { to: 'team:crew@all', note: 'their round' }, 'assigned', 'acknowledged'],
      ['snooze', { until: new Date(Date.now() + 3_600_000).toISOString() }, 'snoozed', 'acknowledged'],
    ]
    for (const [path, body, action, status] of steps) {
      const r = await post(`${base}/${path}`, body)
      expect(r.status, path).toBe(200)
      expect(r.body).toMatchObject({ action, alert: { id, status }, entry: { action, actor: 'admin-token', to: status } })
    }
    expect((await get<Alert[]>('/api/alerts?snoozed=true')).map((a) => a.id)).toEqual([id])
    expect((await get<Alert[]>('/api/alerts?assignedTo=team%3Acrew%40all&status=open')).map((a) => a.id)).toEqual([id])
    expect(await get<Alert[]>('/api/alerts?snoozed=false&status=open')).toEqual([])

    // A refused action answers 409 with what is possible, and 404 and 400 for a missing alert and a bad body.
    const refused = await post(`${base}/reopen`)
    expect(refused.status).toBe(409)
    expect(refused.body.error).toMatchObject({ code: 'INVALID_TRANSITION' })
    expect(refused.body.error!.message).toContain('alert that is acknowledged')
    expect(refused.body.error!.message).toContain('Possible now: assign, snooze, unsnooze, resolve')
    expect((await post(`/api/alerts/${randomUUID()}/resolve`, { note: 'x' })).status).toBe(404)
    expect((await post(`${base}/resolve`, {})).status).toBe(400)
    expect((await post(`${base}/resolve`, { note: '   ' })).status).toBe(400)
    expect((await post(`${base}/snooze`, { until: new Date(Date.now() + 31 * 86_400_000).toISOString() })).status).toBe(400)
    expect((await post(`${base}/snooze`, { until: new Date(Date.now() - 1000).toISOString() })).status).toBe(400)
    expect((await post(`${base}/assign`, { to: 'x'.repeat(121) })).status).toBe(400)

    const resolved = await post(`${base}/resolve`, { note: 'emptied on the noon round' })
    expect(resolved).toMatchObject({
      status: 200,
      body: { alert: { status: 'resolved', resolvedBy: 'admin-token', resolvedNote: 'emptied on the noon round' } },
    })
    expect((await get<Alert[]>('/api/alerts?status=resolved')).map((a) => a.id)).toEqual([id])
    const reopened = await post(`${base}/reopen`, { note: 'still overflowing' })
    expect(reopened).toMatchObject({
      status: 200,
      body: { action: 'reopened', alert: { status: 'active' }, entry: { from: 'resolved', to: 'active' } },
    })

    const history = await get<AlertHistoryEntry[]>(`${base}/history`)
    expect(history.map((e) => [e.action, e.actor, e.from, e.to, e.note])).toEqual([
      ['raised', 'system', null, 'active', null],
      ['acknowledged', 'admin-token', 'active', 'acknowledged', 'crew passing at noon'],
      ['assigned', 'admin-token', 'acknowledged', 'acknowledged', 'their round'],
      ['snoozed', 'admin-token', 'acknowledged', 'acknowledged', null],
      ['resolved', 'admin-token', 'acknowledged', 'resolved', 'emptied on the noon round'],
      ['reopened', 'admin-token', 'resolved', 'active', 'still overflowing'],
    ])
    expect(history[2]).toMatchObject({ assignedTo: 'team:crew@all' })
    for (const e of history.slice(1)) expect(Date.parse(e.at)).toBeGreaterThanOrEqual(started - 1000)

    // Every action reached the live client, with the same entry the history keeps.
    await waitFor(() => changes.length >= 5, 2_000)
    expect(changes.map((c) => [c.action, c.alert.id, c.alert.status])).toEqual([
      ['acknowledged', id, 'acknowledged'],
      ['assigned', id, 'acknowledged'],
      ['snoozed', id, 'acknowledged'],
      ['resolved', id, 'resolved'],
      ['reopened', id, 'active'],
    ])
    expect(changes.map((c) => c.entry)).toEqual(history.slice(1))
    // Clients from before 'alert:changed' still hear of the acknowledgement.
    expect(acknowledged.map((a) => [a.id, a.acknowledgedBy])).toEqual([[id, 'admin-token']])
  })

  it('reopens a resolved alert when its condition returns, and tells live clients it was raised', async () => {
    const [alert] = await get<Alert[]>('/api/alerts?status=open&ruleId=bin-full')
    const id = alert!.id
    expect((await post(`/api/alerts/${id}/unsnooze`)).status).toBe(200)
    expect((await post(`/api/alerts/${id}/resolve`, { note: 'sensor cleaned' })).status).toBe(200)
    // The data clears it (two readings under 70 %): it stays resolved, and the clear is recorded.
    await send(0.4)
    await send(0.4)
    const clear = await waitFor(() => cleared.find((a) => a.id === id), 5_000)
    expect(clear).toMatchObject({ status: 'resolved', resolvedNote: 'sensor cleaned' })
    expect(clear.clearedAt).not.toBeNull()

    await send(0.98)
    await send(0.98)
    await waitFor(() => raised.filter((a) => a.ruleId === 'bin-full').length === 2, 5_000)
    expect(raised.at(-1)).toMatchObject({ id, status: 'active', value: 0.98, clearedAt: null })
    const history = await get<AlertHistoryEntry[]>(`/api/alerts/${id}/history`)
    expect(history.slice(-4).map((e) => [e.action, e.actor, e.from, e.to])).toEqual([
      ['unsnoozed', 'admin-token', 'active', 'active'],
      ['resolved', 'admin-token', 'active', 'resolved'],
      ['cleared', 'system', 'resolved', 'resolved'],
      ['reopened', 'system', 'resolved', 'active'],
    ])
    expect(history.at(-1)).toMatchObject({ value: 0.98, at: new Date(ts).toISOString() })
    expect(await get<Alert[]>('/api/alerts?ruleId=bin-full')).toHaveLength(1)
    expect(changes.map((c) => c.action).slice(-2)).toEqual(['unsnoozed', 'resolved'])
  })
})
