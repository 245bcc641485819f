import { rmSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '#devices'
import { connectPacket, publishPacket, rawClient } from '../helpers/raw-mqtt.ts'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

const fire = (ts: number) => JSON.stringify({ ts, readings: { fillingLevel: 0.3, temperature: 75, batteryPct: 80, tilted: false } })

describe('duplicated deliveries are one point and at most one alert (issue 3, acceptance 3)', () => {
  let svc: TestService
  let socket: Socket
  const raised: Alert[] = []
  let dataDir = ''

  beforeAll(async () => {
    svc = await startService()
    dataDir = svc.dataDir
    socket = io(svc.url, { auth: { token: svc.token }, transports: ['websocket'] })
    socket.on('alert:raised', (a: Alert) => raised.push(a))
    await new Promise<void>((r) => socket.once('connect', () => r()))
  })
  afterAll(async () => {
    socket?.close()
    await svc?.close()
  })

  it('a DUP re-send with the same packet id', async () => {
    const d = await svc.provision({ id: 'bin-dup', type: 'bin', site: 'dups' })
    const c = await rawClient(svc.service.broker.port)
    c.send(connectPacket({ clientId: d.id, username: d.id, password: d.secret }))
    expect(await c.connack()).toBe(0)
    const ts = Date.now() - 5_000
    c.send(publishPacket({ topic: telemetryTopic(d), payload: fire(ts), id: 42 }))
    c.send(publishPacket({ topic: telemetryTopic(d), payload: fire(ts), id: 42, dup: true }))
    expect(await c.puback(42)).toBe(true)
    c.end()
    await waitFor(() => raised.some((a) => a.deviceId === d.id), 2_000)
    await new Promise((r) => setTimeout(r, 400))
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${d.id}'`)).toBe(1)
    expect(raised.filter((a) => a.deviceId === d.id)).toHaveLength(1)
  })

  it('a redelivery after reconnecting', async () => {
    const d = await svc.provision({ id: 'bin-redeliver', type: 'bin', site: 'dups' })
    const ts = Date.now() - 5_000
    for (let i = 0; i < 2; i++) {
      const c = await connectDevice(svc.mqttUrl, d.id, d.secret)
      await c.publishAsync(telemetryTopic(d), fire(ts), { qos: 1 })
      await c.endAsync()
    }
    await waitFor(() => raised.some((a) => a.deviceId === d.id), 2_000)
    await new Promise((r) => setTimeout(r, 400))
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${d.id}'`)).toBe(1)
    expect(raised.filter((a) => a.deviceId === d.id)).toHaveLength(1)
    const stored = (await (await svc.api(`/api/alerts?deviceId=${d.id}`)).json()) as Alert[]
    expect(stored).toHaveLength(1)
  })

  it('a log replay after a restart that lost the InfluxDB writer checkpoint', async () => {
    const d = await svc.provision({ id: 'bin-replay', type: 'bin', site: 'dups' })
    const c = await connectDevice(svc.mqttUrl, d.id, d.secret)
    const t0 = Date.now() - 60_000
    for (let i = 0; i < 20; i++) await c.publishAsync(telemetryTopic(d), fire(t0 + i * 1000), { qos: 1 })
    await c.endAsync()
    await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${d.id}'`)) === 20, 3_000)
    const alertsBefore = ((await (await svc.api('/api/alerts')).json()) as Alert[]).length
    const token = svc.token
    const db = svc.db
    await svc.service.close()

    // Losing the checkpoint makes the next start write the whole log again.
    unlinkSync(join(dataDir, 'log', 'influxdb.checkpoint'))
    svc = await startService({}, { dataDir, db, token })
    // The replay happened (every spooled line was written again) and still left one point per reading.
    await waitFor(async () => {
      const m = /sp_influx_points_written_total (\d+)/.exec(await (await svc.api('/metrics')).text())
      return m && Number(m[1]) >= 20
    }, 5_000)
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${d.id}'`)).toBe(20)
    expect(((await (await svc.api('/api/alerts')).json()) as Alert[]).length).toBe(alertsBefore)
    const ready = (await (await fetch(`${svc.url}/ready`)).json()) as { checks: Record<string, { detail: string }> }
    expect(ready.checks['reader:influxdb']!.detail).toMatch(/^0 records/)
    const close = svc.close
    svc.close = async () => {
      await close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
