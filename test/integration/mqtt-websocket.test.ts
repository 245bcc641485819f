import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { binReading } from '../helpers/load.ts'
import { countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

describe('MQTT over WebSocket', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startService({ MQTT_MAX_CONNECTIONS_PER_ADDRESS: '3' })
  })
  afterAll(() => svc?.close())

  it('authenticates a device and ingests its readings like TCP; refuses a wrong secret', async () => {
    const bin = await svc.provision({ id: 'bin-ws', type: 'bin', site: 'ws' })
    const url = `ws://127.0.0.1:${svc.service.broker.wsPort}`
    await expect(mqtt.connectAsync(url, { clientId: bin.id, username: bin.id, password: 'wrong', reconnectPeriod: 0 })).rejects.toThrow(
      /Bad username or password/i,
    )
    const c = await mqtt.connectAsync(url, { clientId: bin.id, username: bin.id, password: bin.secret, reconnectPeriod: 0 })
    const t0 = Date.now() - 10_000
    for (let i = 0; i < 5; i++) await c.publishAsync(telemetryTopic(bin), binReading(t0 + i), { qos: 1 })
    await c.endAsync()
    await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = 'bin-ws'`)) === 5, 3_000)
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = 'bin-ws'`)).toBe(5)
  })

  it('counts WebSocket connections against the per-address cap', async () => {
    const url = `ws://127.0.0.1:${svc.service.broker.wsPort}`
    // Three open WebSockets (no CONNECT yet) fill the cap of 3.
    const sockets = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<WebSocket>((resolve) => {
            const w = new WebSocket(url, 'mqtt')
            w.once('open', () => resolve(w))
          }),
      ),
    )
    const fourth = new WebSocket(url, 'mqtt')
    const closed = await new Promise<boolean>((resolve) => {
      fourth.once('close', () => resolve(true))
      fourth.once('error', () => resolve(true))
      setTimeout(() => resolve(false), 2_000)
    })
    expect(closed).toBe(true)
    expect(await (await svc.api('/metrics')).text()).toMatch(/sp_mqtt_refused_total\{reason="too-many-connections-from-address"\} [1-9]/)
    for (const w of sockets) w.close()
  })
})
