import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { binReading } from '../helpers/load.ts'
import { connectPacket, publishPacket, type RawClient, rawClient } from '../helpers/raw-mqtt.ts'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

type Device = { id: string; secret: string; site: string; type: string }

interface BrokerCase {
  name: string
  kind: 'broker'
  /** Sends the hostile bytes on a fresh connection; `dev` is an authenticated device. */
  run(c: RawClient, dev: Device, other: Device): void
  reason: string
}
interface IngestCase {
  name: string
  kind: 'ingest'
  payload: string | Buffer
  code: string
}

const good = { fillingLevel: 0.4, temperature: 10, batteryPct: 80, tilted: false }
const login = (c: RawClient, d: Device, extra: Partial<Parameters<typeof connectPacket>[0]> = {}) =>
  c.send(connectPacket({ clientId: d.id, username: d.id, password: d.secret, ...extra }))
const topicOf = (d: Device) => `sp/v1/${d.site}/${d.type}/${d.id}/telemetry`

const cases: (BrokerCase | IngestCase)[] = [
  {
    name: 'malformed UTF-8 in the client id',
    kind: 'broker',
    run: (c, d) => c.send(connectPacket({ clientId: Buffer.from([0x62, 0xc3, 0x28]), username: d.id, password: d.secret })),
    reason: 'client-id-malformed',
  },
  {
    name: 'empty client id with a persistent session',
    kind: 'broker',
    run: (c, d) => c.send(connectPacket({ clientId: '', clean: false, username: d.id, password: d.secret })),
    reason: 'empty-client-id-persistent',
  },
  {
    name: 'malformed UTF-8 in a topic',
    kind: 'broker',
    run: (c, d) => {
      login(c, d)
      c.send(
        publishPacket({ topic: Buffer.concat([Buffer.from(`sp/v1/${d.site}/bin/${d.id}/`), Buffer.from([0xff, 0xfe])]), payload: '{}' }),
      )
    },
    reason: 'topic-malformed-utf8',
  },
  {
    name: 'NUL in a topic',
    kind: 'broker',
    run: (c, d) => {
      login(c, d)
      c.send(publishPacket({ topic: `sp/v1/${d.site}/bin/${d.id}\u0000/telemetry`, payload: '{}' }))
    },
    reason: 'topic-nul',
  },
  {
    name: 'a topic outside the grammar',
    kind: 'broker',
    run: (c, d) => {
      login(c, d)
      c.send(publishPacket({ topic: 'bins/all/full', payload: '{}' }))
    },
    reason: 'topic-invalid',
  },
  {
    name: "another device's topic",
    kind: 'broker',
    run: (c, d, o) => {
      login(c, d)
      c.send(publishPacket({ topic: topicOf(o), payload: binReading(Date.now()) }))
    },
    reason: 'topic-forbidden',
  },
  {
    name: "a retained publish on another device's status topic",
    kind: 'broker',
    run: (c, d, o) => {
      login(c, d)
      c.send(publishPacket({ topic: `sp/v1/${o.site}/bin/${o.id}/status`, payload: 'offline', retain: true }))
    },
    reason: 'topic-forbidden',
  },
  {
    name: "a Last Will on another device's topic",
    kind: 'broker',
    run: (c, d, o) => login(c, d, { will: { topic: `sp/v1/${o.site}/bin/${o.id}/status`, payload: 'offline', retain: true } }),
    reason: 'will-forbidden',
  },
  {
    name: 'a 1 MB string field (packet over the size limit)',
    kind: 'broker',
    run: (c, d) => {
      login(c, d)
      c.send(publishPacket({ topic: topicOf(d), payload: JSON.stringify({ readings: { ...good, note: 'x'.repeat(1_000_000) } }) }))
    },
    reason: 'packet-too-large',
  },
  { name: 'malformed JSON', kind: 'ingest', payload: '{"readings": {"fillingLevel": 0.4,', code: 'PAYLOAD_NOT_JSON' },
  {
    name: 'JSON nested 10,000 deep',
    kind: 'ingest',
    payload: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'a 40 kB string field',
    kind: 'ingest',
    payload: JSON.stringify({ readings: { ...good, note: 'x'.repeat(40_000) } }),
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'NaN',
    kind: 'ingest',
    payload: '{"readings":{"fillingLevel":NaN,"temperature":10,"batteryPct":80,"tilted":false}}',
    code: 'PAYLOAD_NOT_JSON',
  },
  {
    name: 'Infinity',
    kind: 'ingest',
    payload: '{"readings":{"fillingLevel":Infinity,"temperature":10,"batteryPct":80,"tilted":false}}',
    code: 'PAYLOAD_NOT_JSON',
  },
  {
    name: '1e999 (parses as Infinity)',
    kind: 'ingest',
    payload: '{"readings":{"fillingLevel":0.4,"temperature":1e999,"batteryPct":80,"tilted":false}}',
    code: 'PAYLOAD_INVALID',
  },
  { name: 'a timestamp in 1970', kind: 'ingest', payload: JSON.stringify({ ts: 0, readings: good }), code: 'PAYLOAD_INVALID' },
  {
    name: 'a timestamp in 1971',
    kind: 'ingest',
    payload: JSON.stringify({ ts: 31_536_000_000, readings: good }),
    code: 'TIMESTAMP_OUT_OF_WINDOW',
  },
  {
    name: 'a timestamp in 2099',
    kind: 'ingest',
    payload: JSON.stringify({ ts: '2099-06-01T00:00:00Z', readings: good }),
    code: 'TIMESTAMP_OUT_OF_WINDOW',
  },
]

describe('hostile input matrix (issue 3, acceptance 5)', () => {
  let svc: TestService
  let hostile: Device
  let victim: Device
  let bystander: MqttClient
  let bystanderDevice: Device

  beforeAll(async () => {
    svc = await startService({ MQTT_CONNECT_TIMEOUT_MS: '500', MQTT_MAX_CONNECTIONS_PER_ADDRESS: '200' })
    hostile = await svc.provision({ id: 'bin-hostile', type: 'bin', site: 'street' })
    victim = await svc.provision({ id: 'bin-victim', type: 'bin', site: 'street' })
    bystanderDevice = await svc.provision({ id: 'bin-bystander', type: 'bin', site: 'street' })
    bystander = await connectDevice(svc.mqttUrl, bystanderDevice.id, bystanderDevice.secret)
  })
  afterAll(async () => {
    await bystander?.endAsync()
    await svc?.close()
  })

  const metric = async (name: string, label: string) => {
    const text = await (await svc.api('/metrics')).text()
    const m = new RegExp(`${name}\\{[a-z]+="${label}"\\} (\\d+)`).exec(text)
    return m ? Number(m[1]) : 0
  }

  it('refuses or quarantines each case with its reason, stays up, and lands every reading of other devices', async () => {
    // Another device keeps reporting throughout.
    let ts = Date.now() - 120_000
    let sent = 0
    const timer = setInterval(() => {
      sent++
      bystander.publish(telemetryTopic(bystanderDevice), binReading(ts++), { qos: 1 })
    }, 20)

    for (const c of cases) {
      const client = await rawClient(svc.service.broker.port)
      if (c.kind === 'broker') {
        const before = await metric('sp_mqtt_refused_total', c.reason)
        c.run(client, hostile, victim)
        expect(await client.closedWithin(3_000), c.name).toBe(true)
        expect(await metric('sp_mqtt_refused_total', c.reason), c.name).toBe(before + 1)
      } else {
        login(client, hostile)
        expect(await client.connack(), c.name).toBe(0)
        client.send(publishPacket({ topic: topicOf(hostile), payload: c.payload, id: 7 }))
        expect(await client.puback(7), `${c.name}: still acknowledged`).toBe(true)
        const [latest] = (await (await svc.api(`/api/quarantine?deviceId=${hostile.id}&limit=1`)).json()) as {
          code: string
          reason: string
        }[]
        expect(latest?.code, c.name).toBe(c.code)
        expect(latest?.reason.length, c.name).toBeGreaterThan(10)
      }
      client.end()
    }

    // A connection that never sends CONNECT is closed after the handshake deadline.
    const silent = await rawClient(svc.service.broker.port)
    expect(await silent.closedWithin(3_000)).toBe(true)

    clearInterval(timer)
    expect(bystander.connected).toBe(true)
    await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${bystanderDevice.id}'`)) === sent, 5_000)
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${hostile.id}'`)).toBe(0)
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${victim.id}'`)).toBe(0)
    expect((await fetch(`${svc.url}/health`)).status).toBe(200)
  })

  it('caps connections per address', async () => {
    const clients: RawClient[] = []
    for (let i = 0; i < 199; i++) clients.push(await rawClient(svc.service.broker.port)) // plus the bystander = 200
    const over = await rawClient(svc.service.broker.port)
    expect(await over.closedWithin(2_000)).toBe(true)
    expect(await metric('sp_mqtt_refused_total', 'too-many-connections-from-address')).toBeGreaterThan(0)
    for (const c of clients) c.end()
  })
})
