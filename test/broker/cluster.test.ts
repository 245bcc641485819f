import { Redis } from 'ioredis'
import mqtt, { type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type PrivateRedis, startRedis } from '../../scripts/cluster-engines.ts'
import { connectPacket, packet, type RawClient, rawClient, str, u16 } from '../helpers/raw-mqtt.ts'
import { startTestBroker, type TestBroker } from '../helpers/test-broker.ts'

// The broker as one node of several (issue 15): brokers on one private Redis, device authentication
// on, real TCP ports and real MQTT clients. A device may subscribe only to its own command topic and
// publish a will only to its own status topic (acl.ts), so commands are published the way the service
// would, through aedes.publish on a node, and what devices publish is watched by an in-process
// subscriber on another node.

const SECRET = 'cluster-secret'
const cmd = (id: string) => `sp/v1/conf/bin/${id}/cmd`
const status = (id: string) => `sp/v1/conf/bin/${id}/status`
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('the broker across nodes (one Redis)', () => {
  let redis: PrivateRedis
  let admin: Redis
  const nodes: TestBroker[] = []
  const clients: MqttClient[] = []
  const raws: RawClient[] = []
  const devices: string[] = []

  beforeAll(async () => {
    redis = await startRedis()
    admin = new Redis(redis.url)
  })
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true)
    for (const r of raws.splice(0)) r.end()
    await Promise.all(nodes.splice(0).map((n) => n.close()))
    devices.length = 0
    await admin.flushall() // the next test starts from an empty cluster
  })
  afterAll(async () => {
    await admin?.quit().catch(() => {})
    await redis?.stop()
  })

  /** A node on the shared Redis that knows every device registered so far (the registry is shared too). */
  const node = async () => {
    const n = await startTestBroker({ cluster: { redisUrl: redis.url } })
    nodes.push(n)
    for (const id of devices) n.addDevice(id, SECRET)
    return n
  }
  const device = (id: string) => {
    devices.push(id)
    for (const n of nodes) n.addDevice(id, SECRET)
    return id
  }
  const connect = (n: TestBroker, id: string, opts: mqtt.IClientOptions = {}) =>
    new Promise<{ client: MqttClient; connack: IConnackPacket }>((resolve, reject) => {
      const client = mqtt.connect(`mqtt://127.0.0.1:${n.broker.port}`, {
        clientId: id,
        username: id,
        password: SECRET,
        protocolVersion: 4,
        reconnectPeriod: 0,
        ...opts,
      })
      clients.push(client)
      client.once('connect', (connack) => resolve({ client, connack }))
      client.once('error', reject)
    })
  /** What the service does to send a device a command: a publish on whichever node it runs on. */
  const command = (n: TestBroker, id: string, text: string, retain = false) =>
    new Promise<void>((resolve, reject) =>
      n.broker.aedes.publish({ cmd: 'publish', topic: cmd(id), payload: Buffer.from(text), qos: 1, retain, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    )
  /** Every message a client receives, from now on. */
  const inbox = (client: MqttClient) => {
    const got: { topic: string; text: string; packet: IPublishPacket }[] = []
    client.on('message', (topic, payload, packet) => got.push({ topic, text: payload.toString('utf8'), packet }))
    return got
  }
  const until = async (cond: () => boolean, ms = 5_000) => {
    const deadline = Date.now() + ms
    while (!cond() && Date.now() < deadline) await tick(20)
    return cond()
  }
  /** A subscriber inside a node's process (what a service-side consumer on that node would see). */
  const listen = (n: TestBroker, topic: string) =>
    new Promise<{ topic: string; text: string; qos: number }[]>((resolve) => {
      const got: { topic: string; text: string; qos: number }[] = []
      n.broker.aedes.subscribe(
        topic,
        (p, done) => {
          got.push({ topic: p.topic, text: Buffer.from(p.payload).toString('utf8'), qos: p.qos })
          done()
        },
        () => resolve(got),
      )
    })

  it('a QoS 1 command published on node A reaches its device subscribed on node B, at QoS 1', async () => {
    const id = device('bin-cross')
    const a = await node()
    const b = await node()
    const { client } = await connect(b, id)
    const got = inbox(client)
    expect((await client.subscribeAsync(cmd(id), { qos: 1 }))[0]?.qos).toBe(1)

    await command(a, id, 'empty-now')
    expect(await until(() => got.length > 0)).toBe(true)
    expect(got[0]).toMatchObject({ topic: cmd(id), text: 'empty-now', packet: { qos: 1 } })
    await tick(200)
    expect(got).toHaveLength(1) // once, not once per node
  })

  it("a device's QoS 1 publish on node A is acknowledged and reaches a subscriber on node B", async () => {
    const id = device('bin-up')
    const a = await node()
    const b = await node()
    const seen = await listen(b, status(id))
    const { client } = await connect(a, id)
    // publishAsync settles at QoS 1 only when the PUBACK comes.
    await expect(client.publishAsync(status(id), 'lid-open', { qos: 1 })).resolves.toMatchObject({ qos: 1 })
    expect(await until(() => seen.length > 0)).toBe(true)
    expect(seen).toEqual([{ topic: status(id), text: 'lid-open', qos: 1 }])
  })

  it('a client id connecting to node B takes the session over from node A: A closes its connection [MQTT-3.1.4-2], the subscription goes on', async () => {
    const id = device('bin-moves')
    const a = await node()
    const b = await node()
    const first = await connect(a, id, { clean: false })
    expect(first.connack.sessionPresent).toBe(false)
    await first.client.subscribeAsync(cmd(id), { qos: 1 })
    let closedOnA = false
    first.client.on('close', () => {
      closedOnA = true
    })
    const gone: string[] = []
    a.broker.aedes.on('clientDisconnect', (c) => gone.push(c.id))

    const second = await connect(b, id, { clean: false })
    expect(second.connack.sessionPresent).toBe(true) // B found the session A left in Redis
    expect(await until(() => closedOnA)).toBe(true)
    expect((a.broker.aedes as unknown as { clients: Record<string, unknown> }).clients[id]).toBeUndefined()
    // Node A reports the device gone although it is online on B: per-node presence must not conclude "offline" from this alone.
    expect(gone).toEqual([id])

    // No new SUBSCRIBE on B: the stored subscription delivers a command published on A, the node it left, once.
    const got = inbox(second.client)
    await command(a, id, 'after-move')
    expect(await until(() => got.length > 0)).toBe(true)
    expect(got[0]).toMatchObject({ text: 'after-move', packet: { qos: 1 } })
    await tick(200)
    expect(got).toHaveLength(1)
    expect(second.client.connected).toBe(true)
  })

  it('a persistent session that left node A gets on node B the QoS 1 command published while it was offline', async () => {
    const id = device('bin-offline')
    const a = await node()
    const b = await node()
    const first = await connect(a, id, { clean: false })
    await first.client.subscribeAsync(cmd(id), { qos: 1 })
    await first.client.endAsync()

    await command(a, id, 'while-away')

    const got: string[] = []
    const client = mqtt.connect(`mqtt://127.0.0.1:${b.broker.port}`, {
      clientId: id,
      username: id,
      password: SECRET,
      protocolVersion: 4,
      reconnectPeriod: 0,
      clean: false,
    })
    clients.push(client)
    client.on('message', (_t, payload, p) => got.push(`${payload.toString('utf8')}@qos${p.qos}`)) // before the queue is flushed
    const connack = await new Promise<IConnackPacket>((resolve) => client.once('connect', resolve))
    expect(connack.sessionPresent).toBe(true)
    expect(await until(() => got.length > 0)).toBe(true)
    expect(got).toEqual(['while-away@qos1'])
  })

  it('a retained command published on node A is delivered to a new subscriber on a node C started afterwards', async () => {
    const id = device('bin-retained')
    const a = await node()
    await command(a, id, 'set-interval-300', true)

    const c = await node()
    const { client } = await connect(c, id)
    const got = inbox(client)
    await client.subscribeAsync(cmd(id), { qos: 1 })
    expect(await until(() => got.length > 0)).toBe(true)
    expect(got[0]).toMatchObject({ text: 'set-interval-300', packet: { retain: true, qos: 1 } })
  })

  it('the will of a device that dies on node A (its own status topic, the only one allowed) reaches node B', async () => {
    const id = device('bin-dies')
    const a = await node()
    const b = await node()
    const seen = await listen(b, status(id))
    const { client } = await connect(a, id, { will: { topic: status(id), payload: Buffer.from('offline'), qos: 1, retain: false } })
    client.stream.destroy() // no DISCONNECT: the connection is lost
    expect(await until(() => seen.length > 0)).toBe(true)
    expect(seen).toEqual([{ topic: status(id), text: 'offline', qos: 1 }])
  })

  it('a node whose Redis goes away stays up, says so without a line per reconnection attempt, and still closes at once', async () => {
    const own = await startRedis()
    const n = await startTestBroker({ cluster: { redisUrl: own.url } })
    const errors = () => n.logs.filter((l) => l.msg === 'broker cluster: redis error')
    try {
      await own.stop() // an unhandled error from the emitter would end this process here
      expect(await until(() => errors().length > 0)).toBe(true)
      await tick(1_500) // three connections, each retrying every few hundred milliseconds
      expect(errors().length).toBeLessThanOrEqual(2)
    } finally {
      const started = Date.now()
      await n.close() // QUIT would wait for a Redis that is not coming back
      expect(Date.now() - started).toBeLessThan(2_000)
    }
  })

  it('a PUBREC for a packet id never sent, on a persistent session, is answered with PUBREL over the Redis store too', async () => {
    const id = device('bin-pubrec')
    const a = await node()
    const c = await rawClient(a.broker.port)
    raws.push(c)
    c.send(connectPacket({ clientId: id, username: id, password: SECRET, clean: false }))
    expect(await c.connack()).toBe(0)
    c.send(packet(0x50, u16(78)))
    expect(await c.receivedWithin(Buffer.from('6202004e', 'hex'))).toBe(true)
    expect(await c.closedWithin(200)).toBe(false)
    expect(a.logs.some((l) => l.msg === 'PUBREC for an unknown packet id; answered with PUBREL' && l.messageId === 78)).toBe(true)
  })

  it('a command left unacknowledged on node A is sent again on node B, and a new command there does not take its packet id', async () => {
    const id = device('bin-inflight')
    const a = await node()
    const b = await node()
    const subscribe = packet(0x82, Buffer.concat([u16(1), str(cmd(id)), Buffer.from([1])]))

    const onA = await rawClient(a.broker.port)
    raws.push(onA)
    onA.send(connectPacket({ clientId: id, username: id, password: SECRET, clean: false }))
    expect(await onA.connack()).toBe(0)
    onA.send(subscribe)
    expect(await onA.receivedWithin(Buffer.from('9003000101', 'hex'))).toBe(true)
    await command(a, id, 'first')
    expect(await onA.receivedWithin(Buffer.from('first'))).toBe(true)
    const [sentOnA] = publishes(onA.received())
    onA.end() // gone without a PUBACK

    await tick(100)
    await command(b, id, 'second') // queued while the device is away

    const onB = await rawClient(b.broker.port)
    raws.push(onB)
    onB.send(connectPacket({ clientId: id, username: id, password: SECRET, clean: false }))
    expect(await onB.connack()).toBe(0)
    expect(await onB.receivedWithin(Buffer.from('second'))).toBe(true)
    const onBoth = publishes(onB.received())
    expect(onBoth.map((p) => p.text)).toEqual(['first', 'second'])
    expect(onBoth[0]?.id).toBe(sentOnA?.id) // the same message, with its id [MQTT-4.4.0-1]
    expect(onBoth[1]?.id).not.toBe(onBoth[0]?.id) // two messages in flight never share an id [MQTT-2.3.1-2]

    // Both acknowledged: nothing is left to send again on the next connection.
    onB.send(Buffer.concat(onBoth.map((p) => packet(0x40, u16(p.id)))))
    await tick(200)
    onB.end()
    await tick(100)
    const again = await rawClient(b.broker.port)
    raws.push(again)
    again.send(connectPacket({ clientId: id, username: id, password: SECRET, clean: false }))
    expect(await again.connack()).toBe(0)
    await tick(300)
    expect(publishes(again.received())).toEqual([])
  })
})

/** The QoS 1 PUBLISH packets in a byte stream from the broker. */
function publishes(b: Buffer) {
  const out: { id: number; text: string }[] = []
  let i = 0
  while (i < b.length) {
    const type = b[i]! >> 4
    let len = 0
    let mul = 1
    let j = i + 1
    for (;;) {
      const byte = b[j++]!
      len += (byte & 0x7f) * mul
      mul *= 128
      if (byte < 0x80) break
    }
    if (type === 3 && ((b[i]! >> 1) & 3) === 1) {
      const topicLen = b.readUInt16BE(j)
      const id = b.readUInt16BE(j + 2 + topicLen)
      out.push({ id, text: b.subarray(j + 4 + topicLen, j + len).toString('utf8') })
    }
    i = j + len
  }
  return out
}
