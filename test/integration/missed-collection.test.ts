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

  it("serves a bin's fill outlook: its rate, when it will be full, and whether before its next collection", async () => {
    const b = await svc.provision({ id: 'bin-busy', type: 'bin', site: bin.site })
    expect((await svc.api('/api/rounds/daily/bins', { method: 'PUT', body: JSON.stringify({ deviceIds: [bin.id, b.id] }) })).status).toBe(
      200,
    )
    const none = (await (await svc.api(`/api/bins/${b.id}/outlook`)).json()) as Record<string, unknown>
    expect(none).toMatchObject({ deviceId: b.id, ratePerDay: null, reachesAt: null, fullBeforeCollection: null })
    // Filling 2 % an hour for the last 20 hours, from 30 %.
    const client = await connectDevice(svc.mqttUrl, b.id, b.secret)
    const now = Date.now()
    for (let i = 0; i <= 20; i++) {
      const ts = now - (20 - i) * H
      const readings = { fillingLevel: Math.round((0.3 + 0.02 * i) * 1000) / 1000, temperature: 9, batteryPct: 80, tilted: false }
      await client.publishAsync(telemetryTopic({ ...bin, id: b.id }), JSON.stringify({ ts, readings }), { qos: 1 })
    }
    await client.endAsync()
    const outlook = await waitFor(async () => {
      const o = (await (await svc.api(`/api/bins/${b.id}/outlook`)).json()) as {
        ratePerDay: number | null
        at: string | null
        level: number
        reachesAt: string
        nextCollection: string
        fullBeforeCollection: boolean
      }
      // Once the engine has taken the newest reading.
      return o.at === new Date(now).toISOString() ? o : null
    }, 5_000)
    expect(outlook.ratePerDay).toBeCloseTo(0.48, 2)
    expect(outlook.level).toBeCloseTo(0.7, 2)
    // 30 % to go at 48 % a day: 15 hours after the newest reading.
    expect(Math.abs(Date.parse(outlook.reachesAt) - (now + 15 * H))).toBeLessThan(60_000)
    expect(outlook.fullBeforeCollection).toBe(Date.parse(outlook.reachesAt) < Date.parse(outlook.nextCollection))
    expect((await svc.api('/api/bins/no-such-bin/outlook')).status).toBe(404)
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
