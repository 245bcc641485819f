import type { MqttClient } from 'mqtt'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { Alert } from '#devices'
import { createDatabase } from '../../scripts/postgres.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

// Once on each store: SQLite (the default) and PostgreSQL (DATABASE_URL), the same service otherwise.
describe.each(['sqlite', 'postgres'] as const)('one reading from a device to the dashboard, on %s', (store) => {
  let svc: TestService
  let dropDb: (() => Promise<void>) | null = null
  let device: MqttClient
  let socket: Socket
  const events: { name: string; alert: Alert }[] = []

  beforeAll(async () => {
    let env: Record<string, string> = {}
    if (store === 'postgres') {
      const db = await createDatabase(inject('postgresUrl'))
      dropDb = db.drop
      env = { DATABASE_URL: db.url }
    }
    svc = await startService(env)
    expect(svc.service.registry.dialect).toBe(store)
    const bin = await svc.provision({ id: 'bin-e2e', type: 'bin', site: 'market-square' })
    device = await connectDevice(svc.mqttUrl, bin.id, bin.secret)
    socket = io(svc.url, { auth: { token: svc.token }, transports: ['websocket'] })
    for (const name of ['alert:raised', 'alert:acknowledged', 'alert:cleared'])
      socket.on(name, (alert: Alert) => events.push({ name, alert }))
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('connect_error', reject)
    })
  })

  afterAll(async () => {
    socket?.close()
    await device?.endAsync()
    await svc?.close()
    await dropDb?.()
  })

  const topic = telemetryTopic({ site: 'market-square', type: 'bin', id: 'bin-e2e' })
  const send = (fill: number, ts: number) =>
    device.publishAsync(topic, JSON.stringify({ ts, readings: { fillingLevel: fill, temperature: 12, batteryPct: 80, tilted: false } }), {
      qos: 1,
    })

  it('stores readings, raises, acknowledges and clears the full-bin alert', async () => {
    const t0 = Date.now() - 10_000
    const sentAt = Date.now()
    await send(0.95, t0)
    await send(0.96, t0 + 1000)

    const raised = await waitFor(() => events.find((e) => e.name === 'alert:raised'), 2_000)
    expect(raised.alert).toMatchObject({ deviceId: 'bin-e2e', ruleId: 'bin-full', status: 'active', value: 0.96 })

    // Read back from the real influxd through the API, within 2 s of publishing.
    const points = await waitFor(async () => {
      const res = await svc.api(`/api/devices/bin-e2e/readings?from=${new Date(t0 - 1000).toISOString()}`)
      const body = (await res.json()) as { points: { time: string; fillingLevel: number }[] }
      return body.points.length === 2 ? body.points : null
    }, 2_000)
    expect(Date.now() - sentAt).toBeLessThan(2_500)
    expect(points.map((p) => p.fillingLevel)).toEqual([0.95, 0.96])
    expect(points[0]!.time).toBe(new Date(t0).toISOString())

    const ack = await svc.api(`/api/alerts/${raised.alert.id}/ack`, { method: 'POST' })
    expect(ack.status).toBe(200)
    const acked = await waitFor(() => events.find((e) => e.name === 'alert:acknowledged'), 2_000)
    expect(acked.alert).toMatchObject({ id: raised.alert.id, status: 'acknowledged', acknowledgedBy: 'admin-token' })

    // 0.8 sits inside the hysteresis band (clear below 0.7): nothing changes; two readings at 60 % clear it.
    await send(0.8, t0 + 2000)
    await send(0.6, t0 + 3000)
    await send(0.6, t0 + 4000)
    const cleared = await waitFor(() => events.find((e) => e.name === 'alert:cleared'), 2_000)
    expect(cleared.alert).toMatchObject({ id: raised.alert.id, status: 'cleared', clearedAt: new Date(t0 + 4000).toISOString() })
    expect(events.map((e) => e.name)).toEqual(['alert:raised', 'alert:acknowledged', 'alert:cleared'])

    const device = await (await svc.api('/api/devices/bin-e2e')).json()
    expect(device).toMatchObject({ presence: 'online', state: { latest: { readings: { fillingLevel: 0.6 } } } })
  })
})
