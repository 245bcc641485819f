import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../service/config.ts'
import { binReading } from '../helpers/load.ts'
import { connectPacket, rawClient } from '../helpers/raw-mqtt.ts'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'
import { startTestBroker } from '../helpers/test-broker.ts'

describe('keep-alive (issue 8, acceptance 2)', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startService({ MQTT_KEEPALIVE_LIMIT_S: '60' })
  })
  afterAll(() => svc?.close())

  const metric = async (reason: string) => {
    const m = new RegExp(`sp_mqtt_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(await (await svc.api('/metrics')).text())
    return m ? Number(m[1]) : 0
  }

  it('accepts keep-alive 0 by default: the reading lands and the idle client is not dropped', async () => {
    const defaults = parseConfig({})
    expect(defaults.ok && defaults.config.MQTT_KEEPALIVE_ZERO).toBe('allow')
    const d = await svc.provision({ id: 'bin-ka0', type: 'bin', site: 'ka' })
    const client = await connectDevice(svc.mqttUrl, d.id, d.secret, { keepalive: 0 })
    let dropped = false
    client.on('close', () => {
      dropped = true
    })
    const t0 = Date.now() - 60_000
    await client.publishAsync(telemetryTopic(d), binReading(t0), { qos: 1 })
    await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${d.id}'`)) === 1)

    // A client with keep-alive 1 that stays as silent is dropped at 1.5 s [MQTT-3.1.2-24]: the wait below is long enough to tell.
    const silent = await rawClient(svc.service.broker.port)
    const other = await svc.provision({ id: 'bin-ka1', type: 'bin', site: 'ka' })
    silent.send(connectPacket({ clientId: other.id, username: other.id, password: other.secret, keepalive: 1 }))
    expect(await silent.connack()).toBe(0)
    expect(await silent.closedWithin(3_500)).toBe(true)
    expect(dropped).toBe(false)
    expect(client.connected).toBe(true)

    await client.publishAsync(telemetryTopic(d), binReading(t0 + 1), { qos: 1 })
    await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${d.id}'`)) === 2)
    await client.endAsync()
  })

  it('refuses a keep-alive over MQTT_KEEPALIVE_LIMIT_S with a 3.1.1 return code, and counts it', async () => {
    const d = await svc.provision({ id: 'bin-ka-long', type: 'bin', site: 'ka' })
    const before = await metric('keepalive-too-long')
    const at = await rawClient(svc.service.broker.port)
    at.send(connectPacket({ clientId: d.id, username: d.id, password: d.secret, keepalive: 60 }))
    expect(await at.connack()).toBe(0) // the limit itself is allowed
    at.end()
    const over = await rawClient(svc.service.broker.port)
    over.send(connectPacket({ clientId: d.id, username: d.id, password: d.secret, keepalive: 61 }))
    // 0x02 as Mosquitto answers a 3.1.1 client over max_keepalive; never the non-existent 6.
    expect(await over.connack()).toBe(2)
    expect(await over.closedWithin(2_000)).toBe(true)
    expect(await metric('keepalive-too-long')).toBe(before + 1)
  })

  it('logs the refusal with the keep-alive asked for and the limit', async () => {
    const tb = await startTestBroker({ keepaliveLimitS: 60 })
    try {
      tb.addDevice('bin-ka-log', 's')
      const c = await rawClient(tb.broker.port)
      c.send(connectPacket({ clientId: 'bin-ka-log', username: 'bin-ka-log', password: 's', keepalive: 3600 }))
      expect(await c.connack()).toBe(2)
      const line = tb.logs.find((l) => l.msg === 'mqtt refused' && l.reason === 'keepalive-too-long')
      expect(line).toMatchObject({ keepalive: 3600, limit: 60, clientId: 'bin-ka-log' })
    } finally {
      await tb.close()
    }
  })

  it('refuses keep-alive 0 when MQTT_KEEPALIVE_ZERO=refuse', async () => {
    const tb = await startTestBroker({ keepaliveZero: false })
    try {
      tb.addDevice('bin-ka-zero', 's')
      const c = await rawClient(tb.broker.port)
      c.send(connectPacket({ clientId: 'bin-ka-zero', username: 'bin-ka-zero', password: 's', keepalive: 0 }))
      expect(await c.connack()).toBe(2)
      expect(await tb.refused('keepalive-zero')).toBe(1)
    } finally {
      await tb.close()
    }
  })
})
