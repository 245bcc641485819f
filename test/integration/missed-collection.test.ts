import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '#devices'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

const H = 3_600_000

describe('a bin missed on its round, then marked collected by the crew (issue 9: bin-not-collected)', () => {
  let svc: TestService
  let device: MqttClient
  const bin = { id: 'bin-missed', type: 'bin' as const, site: 'high-street' }
  const publish = (ts: number) =>
    device.publishAsync(
      telemetryTopic(bin),
      JSON.stringify({ ts, readings: { fillingLevel: 0.62, temperature: 9, batteryPct: 80, tilted: false } }),
      {
        qos: 1,
      },
    )
  const alertsOf = async () =>
    ((await (await svc.api(`/api/alerts?deviceId=${bin.id}&ruleId=bin-not-collected`)).json()) as Alert[]).map((a) => a.status)

  beforeAll(async () => {
    svc = await startService({ MQTT_DEVICE_RATE: '0' })
    const b = await svc.provision(bin)
    const round = await svc.api('/api/rounds', {
      method: 'POST',
      body: JSON.stringify({
        id: 'daily',
        name: 'Every day',
        site: bin.site,
        schedule: { weekdays: [1, 2, 3, 4, 5, 6, 7], time: '07:00' },
      }),
    })
    expect(round.status).toBe(201)
    expect((await svc.api('/api/rounds/daily/bins', { method: 'PUT', body: JSON.stringify({ deviceIds: [bin.id] }) })).status).toBe(200)
    device = await connectDevice(svc.mqttUrl, b.id, b.secret)
  })
  afterAll(async () => {
    await device?.endAsync()
    await svc?.close()
  })

  it('is raised once a collection day ends with the bin over half full, and cleared by the crew’s mark', async () => {
    // Hourly readings over the last three days, never emptied: at least one whole collection day has ended.
    const now = Date.now()
    for (let t = now - 72 * H; t < now - 2 * H; t += H) await publish(t)
    await waitFor(async () => (await alertsOf()).includes('active'), 5_000)

    const marked = await svc.api(`/api/bins/${bin.id}/collections`, {
      method: 'POST',
      body: JSON.stringify({ at: new Date(now - 90 * 60_000).toISOString() }),
    })
    expect(marked.status).toBe(201)
    // The next reading (the sensor saw no drop: the crew's word stands) ends it.
    await publish(now - H)
    await waitFor(async () => (await alertsOf()).every((s) => s === 'cleared'), 5_000)
    expect(await alertsOf()).toEqual(['cleared'])
  })
})
