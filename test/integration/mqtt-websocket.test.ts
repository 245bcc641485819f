import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { binReading } from '../helpers/load.ts'
import { countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

describe('MQTT over WebSocket', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startService()
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
})
