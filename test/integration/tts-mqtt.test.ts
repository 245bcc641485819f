import { type AddressInfo, createServer } from 'node:net'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { startService, waitFor } from '../helpers/service.ts'
import { fixture, recent } from '../tts/fixtures.ts'
import { iso, map, points } from '../tts/http.ts'

/** Issue 14, item 5: The Things Stack's MQTT integration, the alternative to its webhook. */

/** A stand-in for a TTS Application Server's MQTT integration: one username and API key, QoS 0 uplinks. */
async function ttsBroker(username: string, apiKey: string) {
  const aedes = await Aedes.createBroker({
    authenticate: (_c, user, pass, done) => done(null, user === username && pass?.toString() === apiKey),
  })
  const server = createServer(aedes.handle)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    subscribed: () => new Promise<void>((r) => aedes.once('subscribe', () => r())),
    async close() {
      await new Promise<void>((r) => aedes.close(() => r()))
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

describe('The Things Stack MQTT integration', () => {
  it('takes QoS 0 uplinks from v3/{app}@{tenant}/devices/+/up like webhook posts: mapped, validated, once each', async () => {
    const broker = await ttsBroker('croydon-waste@croydon', 'NNSXS.MQTTKEY')
    const subscribed = broker.subscribed()
    const svc = await startService({
      TTS_MQTT_URL: broker.url,
      TTS_MQTT_USERNAME: 'croydon-waste@croydon',
      TTS_MQTT_API_KEY: 'NNSXS.MQTTKEY',
    })
    try {
      await svc.provision({ id: 'bin-mqtt', type: 'bin' })
      await map(svc, { devEui: '24E124713C201234', deviceId: 'bin-mqtt', decoder: 'milesight-em310-udl', params: { depthMm: 1200 } })
      await subscribed
      const tts = await mqtt.connectAsync(broker.url, { username: 'croydon-waste@croydon', password: 'NNSXS.MQTTKEY', reconnectPeriod: 0 })
      const topic = 'v3/croydon-waste@croydon/devices/em400-high-st-04/up'
      const first = recent(fixture('milesight-em400-mud'), 30_000, { fCnt: 5000 })
      const second = recent(fixture('milesight-em400-mud'), 10_000, {
        fCnt: 5001,
        decoded: { battery: 91, temperature: 26, distance: 600, position: 'tilt' },
      })
      for (const doc of [first, first, second]) await tts.publishAsync(topic, JSON.stringify(doc), { qos: 0 })
      await tts.endAsync()
      const got = await waitFor(async () => {
        const p = await points(svc, 'bin-mqtt')
        return p.length >= 2 && p
      }, 10_000)
      expect(got).toEqual([
        { time: iso(first), fillingLevel: 0.303, temperature: 25.7, batteryPct: 92, tilted: 0 },
        { time: iso(second), fillingLevel: 0.5, temperature: 26, batteryPct: 91, tilted: 1 },
      ])
      const metrics = await (await svc.api('/metrics')).text()
      expect(metrics).toMatch(/sp_tts_uplinks_total\{outcome="duplicate"\} 1\b/)
    } finally {
      await svc.close()
      await broker.close()
    }
  })
})
