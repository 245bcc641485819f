import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../service/config.ts'
import { connectPacket, publishPacket, rawClient } from '../helpers/raw-mqtt.ts'
import { startService, type TestService } from '../helpers/service.ts'

describe('MQTT_AUTH=off conformance profile (issue 3)', () => {
  it('is refused unless the broker listens on loopback only', () => {
    const r = parseConfig({ MQTT_AUTH: 'off', MQTT_HOST: '0.0.0.0', MQTT_WS_PORT: 'off' })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.errors.join('\n')).toMatch(/MQTT_AUTH.*loopback|127\.0\.0\.1/)
    const ws = parseConfig({ MQTT_AUTH: 'off', MQTT_HOST: '127.0.0.1' })
    expect(ws.ok).toBe(false)
    expect(parseConfig({ MQTT_AUTH: 'off', MQTT_HOST: '127.0.0.1', MQTT_WS_PORT: 'off' }).ok).toBe(true)
    expect(parseConfig({}).ok).toBe(true)
  })

  describe('on loopback', () => {
    let svc: TestService
    beforeAll(async () => {
      svc = await startService({ MQTT_AUTH: 'off', MQTT_HOST: '127.0.0.1', MQTT_WS_PORT: 'off' })
    })
    afterAll(() => svc?.close())

    it('lets anonymous clients publish and subscribe on any valid topic, ingesting nothing', async () => {
      const url = svc.mqttUrl
      const sub = await mqtt.connectAsync(url, { clientId: 'paho-sub', reconnectPeriod: 0 })
      const pub = await mqtt.connectAsync(url, { clientId: 'paho-pub', reconnectPeriod: 0 })
      await sub.subscribeAsync('TopicA/#', { qos: 1 })
      const got = new Promise<string>((r) => sub.once('message', (t, p) => r(`${t} ${p.toString()}`)))
      await pub.publishAsync('TopicA/B', 'hello', { qos: 1 })
      expect(await got).toBe('TopicA/B hello')
      await sub.endAsync()
      await pub.endAsync()
      expect(await svc.service.registry.quarantine.count()).toBe(0)
    })

    it('still applies the protocol checks', async () => {
      const c = await rawClient(svc.service.broker.port)
      c.send(connectPacket({ clientId: 'nul-tester' }))
      expect(await c.connack()).toBe(0)
      c.send(publishPacket({ topic: 'TopicA/\u0000', payload: 'x' }))
      expect(await c.closedWithin(2_000)).toBe(true)
      const big = await rawClient(svc.service.broker.port)
      big.send(connectPacket({ clientId: 'big-tester' }))
      expect(await big.connack()).toBe(0)
      big.send(publishPacket({ topic: 'TopicA/B', payload: Buffer.alloc(100_000) }))
      expect(await big.closedWithin(2_000)).toBe(true)
    })
  })
})
