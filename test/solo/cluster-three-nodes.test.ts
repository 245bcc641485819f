import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { Alert, Incident } from '#devices'
import { purgePlan, purgeSafeOn } from '../../cluster/purge-gate.ts'
import { partitionOf } from '../../log/partition.ts'
import {
  engineSecrets,
  findBinary,
  type NatsCluster,
  type PrivateRedis,
  startNatsCluster,
  startRedis,
} from '../../scripts/cluster-engines.ts'
import { createDatabase } from '../../scripts/postgres.ts'
import { noteSecret } from '../helpers/log-capture.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

// Acceptance 1 of issue 15: three nodes on loopback, one NATS JetStream cluster of three, one Redis, one PostgreSQL, one influxd.
let nats: NatsCluster
let redis: PrivateRedis
let dropDb: () => Promise<void>
const nodes: TestService[] = []
const devices: MqttClient[] = []
let socket: Socket | null = null
const PARTITIONS = 6

const ready = async (n: TestService) =>
  (await (await fetch(`${n.url}/ready`)).json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> }
const ownedBy = async (n: TestService) => {
  const detail = (await ready(n)).checks.partitions?.detail ?? ''
  return Number(/reads (\d+) of/.exec(detail)?.[1] ?? -1)
}

beforeAll(async () => {
  const keyDir = mkdtempSync(join(tmpdir(), 'sp-key-'))
  // The engines ask for credentials; the nodes read them from files.
  const secrets = engineSecrets(keyDir)
  noteSecret(secrets.token)
  noteSecret(secrets.password)
  nats = await startNatsCluster({ token: secrets.token })
  redis = await startRedis({ password: secrets.password })
  const db = await createDatabase(inject('postgresUrl'))
  dropDb = db.drop
  const token = randomBytes(32).toString('base64url')
  const influxDb = `t_${randomBytes(6).toString('hex')}`
  // One key every node reads: a device provisioned through one node signs in on any.
  const keyFile = join(keyDir, 'server.key')
  writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 })
  for (const name of ['node-a', 'node-b', 'node-c']) {
    nodes.push(
      await startService(
        {
          DATABASE_URL: db.url,
          CLUSTER_NATS_URL: nats.url,
          CLUSTER_REDIS_URL: redis.url,
          CLUSTER_PARTITIONS: String(PARTITIONS),
          CLUSTER_NODE_ID: name,
          CLUSTER_LEASE_TTL_S: '2',
          SERVER_KEY_FILE: keyFile,
          ...secrets.env,
          // The incident test's rooms report every 2 s: their silence is checked often enough to see it.
          OFFLINE_CHECK_MS: '500',
        },
        { token, db: influxDb },
      ),
    )
  }
  // The partitions spread over the three nodes, two each.
  await waitFor(async () => {
    const counts = await Promise.all(nodes.map(ownedBy))
    return counts.every((c) => c === PARTITIONS / 3) ? counts : null
  }, 20_000)
}, 120_000)

afterAll(async () => {
  socket?.close()
  for (const d of devices) await d.endAsync().catch(() => undefined)
  await Promise.all(nodes.map((n) => n.close().catch(() => undefined)))
  await dropDb?.()
  await redis?.stop()
  await nats?.stop()
}, 120_000)

/** Which node reads each partition, from the nodes' metrics. */
const owners = async () => {
  const by = new Map<number, number>()
  for (const [i, n] of nodes.entries()) {
    const metrics = await (await n.api('/metrics')).text()
    for (const m of metrics.matchAll(/^sp_partition_owned\{partition="p(\d+)",node="node-\w"\} 1$/gm)) by.set(Number(m[1]), i)
  }
  return by
}
/** A device id of that prefix whose partition node `reader` reads. */
const idReadBy = (prefix: string, by: Map<number, number>, reader: number) => {
  for (let k = 0; ; k++) if (by.get(partitionOf(`${prefix}-${k}`, PARTITIONS)) === reader) return `${prefix}-${k}`
}
const H = 3_600_000

const influxCount = async (n: TestService, deviceId: string) => {
  const q = `SELECT count("fillingLevel") FROM "bin" WHERE "device_id" = '${deviceId}'`
  const res = await fetch(`${n.influxUrl}/query?${new URLSearchParams({ db: n.db, q })}`)
  const body = (await res.json()) as { results: { series?: { values: [string, number][] }[] }[] }
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0
}

describe('a cluster of three nodes', () => {
  it('reports its engines and the partitions each node reads', async () => {
    for (const n of nodes) {
      const r = await ready(n)
      expect(r.checks.nats).toMatchObject({ ok: true })
      expect(r.checks.nats!.detail).toMatch(/3 of 3 replicas current|leader/)
      expect(r.checks.partitions!.detail).toMatch(/reads 2 of 6 partition\(s\).*3 node\(s\) live/)
      // The stream purge: on only with a NATS server that replays a purge rightly after a restart (2.9.18 on).
      const version = /v?(\d+\.\d+\.\d+)/.exec(execFileSync(findBinary('nats-server'), ['--version'], { encoding: 'utf8' }))![1]!
      expect(r.checks.purge!.detail).toBe(purgeSafeOn(version) ? 'on' : `off: ${(purgePlan(10_000, version) as { off: string }).off}`)
      expect(r.checks.follow!.detail).toMatch(/^following the stream since \d{4}-/)
      // The same as metrics: which partitions this node reads, and each partition reader's lag.
      const metrics = await (await n.api('/metrics')).text()
      const owned = [...metrics.matchAll(/^sp_partition_owned\{partition="(p\d)",node="node-\w"\} 1$/gm)].map((m) => m[1])
      expect(owned).toHaveLength(2)
      for (const p of owned) expect(metrics).toMatch(new RegExp(`^sp_reader_lag_records\\{reader="alerts@${p}"\\} \\d+$`, 'm'))
      expect(metrics).toMatch(/^sp_cluster_nodes_live 3$/m)
    }
  })

  it('takes devices on every node and lands each reading once; an alert raised from node A reaches a browser on node C', async () => {
    const [a, b, c] = nodes as [TestService, TestService, TestService]
    socket = io(c.url, { auth: { token: c.token }, transports: ['websocket'] })
    const raised: Alert[] = []
    socket.on('alert:raised', (x: Alert) => raised.push(x))
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', resolve)
      socket!.once('connect_error', reject)
    })

    const clients = new Map<string, MqttClient>()
    const bins = []
    for (let i = 0; i < 9; i++) bins.push(await a.provision({ id: `bin-c${i}`, type: 'bin', site: 'market-square' }))
    const t0 = Date.now() - 60_000
    await Promise.all(
      bins.map(async (bin, i) => {
        const node = nodes[i % 3]!
        const device = await connectDevice(node.mqttUrl, bin.id, bin.secret)
        devices.push(device)
        clients.set(bin.id, device)
        const topic = telemetryTopic({ site: 'market-square', type: 'bin', id: bin.id })
        for (let k = 0; k < 20; k++) {
          const readings = { fillingLevel: 0.2 + k * 0.01, temperature: 12, batteryPct: 80, tilted: false }
          await device.publishAsync(topic, JSON.stringify({ ts: t0 + k * 1000, readings }), { qos: 1 })
        }
      }),
    )
    // Every acknowledged reading is in InfluxDB once (a point per device and time), whichever node took it.
    for (const bin of bins) await waitFor(async () => ((await influxCount(a, bin.id)) === 20 ? true : null), 20_000)
    for (const bin of bins) expect(await influxCount(b, bin.id)).toBe(20)

    // A full bin reported to node A: its alert reaches the admin's browser on node C.
    // bin-c0 is connected to node A (bins go to nodes in turn).
    const full = clients.get('bin-c0')!
    const topic = telemetryTopic({ site: 'market-square', type: 'bin', id: 'bin-c0' })
    for (const [k, fill] of [0.95, 0.96].entries())
      await full.publishAsync(
        topic,
        JSON.stringify({ ts: t0 + 30_000 + k * 1000, readings: { fillingLevel: fill, temperature: 12, batteryPct: 80, tilted: false } }),
        {
          qos: 1,
        },
      )
    const alert = await waitFor(() => raised.find((x) => x.deviceId === 'bin-c0' && x.ruleId === 'bin-full'), 10_000)
    expect(alert.status).toBe('active')
    // Raised once in the cluster, whichever node reads the partition.
    await new Promise((r) => setTimeout(r, 500))
    expect(raised.filter((x) => x.deviceId === 'bin-c0' && x.ruleId === 'bin-full')).toHaveLength(1)
    const listed = (await (await b.api('/api/alerts?limit=100')).json()) as Alert[]
    expect(listed.filter((x) => x.deviceId === 'bin-c0' && x.ruleId === 'bin-full').map((x) => x.id)).toEqual([alert.id])
  }, 90_000)

  it('delivers a command published through node A to its device connected to node B', async () => {
    const [a, b] = nodes as [TestService, TestService]
    const bin = await a.provision({ id: 'bin-cmd', type: 'bin', site: 'market-square' })
    const device = await connectDevice(b.mqttUrl, bin.id, bin.secret)
    devices.push(device)
    const cmdTopic = `sp/v1/market-square/bin/bin-cmd/cmd`
    await device.subscribeAsync(cmdTopic, { qos: 1 })
    const got = new Promise<string>((resolve) => device.on('message', (t, p) => t === cmdTopic && resolve(p.toString())))
    await new Promise<void>((resolve, reject) =>
      a.service.broker.aedes.publish(
        { cmd: 'publish', topic: cmdTopic, payload: Buffer.from('{"do":"reboot"}'), qos: 1, retain: false, dup: false },
        (e) => (e ? reject(e) : resolve()),
      ),
    )
    expect(await Promise.race([got, new Promise((r) => setTimeout(() => r('timeout'), 5_000))])).toBe('{"do":"reboot"}')
  })

  it('keeps a device online when it moves to another node (the old node’s disconnect does not mark it offline)', async () => {
    const [a, b] = nodes as [TestService, TestService]
    const bin = await a.provision({ id: 'bin-moves', type: 'bin', site: 'market-square' })
    const first = await connectDevice(a.mqttUrl, bin.id, bin.secret)
    const presence = async () => ((await (await b.api('/api/devices/bin-moves')).json()) as { presence: string }).presence
    await waitFor(async () => (await presence()) === 'online', 5_000)
    const closed = new Promise<void>((r) => first.once('close', () => r()))
    const second = await connectDevice(b.mqttUrl, bin.id, bin.secret)
    devices.push(second)
    // Node A drops its connection (the session moved, MQTT 3.1.1 §3.1.4), after node B marked the device online.
    await closed
    await new Promise((r) => setTimeout(r, 1_000))
    expect(await presence()).toBe('online')
    await second.endAsync()
    await waitFor(async () => (await presence()) === 'offline', 5_000)
  })

  it('gives every node the same view of a bin, whoever took its readings and reads its partition; rounds, overrides and crew marks made on one node reach the engine on another', async () => {
    const [a, b, c] = nodes as [TestService, TestService, TestService]
    const by = await owners()
    expect(by.size).toBe(PARTITIONS)
    const json = (method: string, body: unknown) => ({ method, body: JSON.stringify(body) })
    const site = 'mill-road'
    // Bin X: read by node B, connected to node C, managed through node A.
    const x = await a.provision({ id: idReadBy('bin-x', by, 1), type: 'bin', site })
    const xDevice = await connectDevice(c.mqttUrl, x.id, x.secret)
    devices.push(xDevice)
    const xTopic = telemetryTopic({ site, type: 'bin', id: x.id })
    const publishX = (ts: number, fillingLevel: number) =>
      xDevice.publishAsync(xTopic, JSON.stringify({ ts, readings: { fillingLevel, temperature: 9, batteryPct: 80, tilted: false } }), {
        qos: 1,
      })

    // A round made on node A is known to node B's schedules (the outlook's next collection comes from them).
    expect(
      (
        await a.api(
          '/api/rounds',
          json('POST', { id: 'mill-daily', name: 'Mill Road, daily', site, schedule: { weekdays: [1, 2, 3, 4, 5, 6, 7], time: '07:00' } }),
        )
      ).status,
    ).toBe(201)
    expect((await a.api('/api/rounds/mill-daily/bins', json('PUT', { deviceIds: [x.id] }))).status).toBe(200)
    for (const n of [b, c])
      await waitFor(
        async () => ((await (await n.api(`/api/bins/${x.id}/outlook`)).json()) as { nextCollection: string | null }).nextCollection,
        5_000,
      )
    // An override made on node A reaches node B's rules (the bin-full alert below is raised only under it).
    expect(
      (await a.api(`/api/rules/overrides/device/${x.id}/bin-full`, json('PUT', { params: { raiseAt: 0.5, clearAt: 0.3 } }))).status,
    ).toBe(200)

    // Hourly readings over three days at 62 %, never emptied: over the override's 50 %, and a collection day missed.
    const now = Date.now()
    for (let t = now - 72 * H; t < now - 2 * H; t += H) await publishX(t, 0.62)
    const alertsOf = async (ruleId: string) =>
      ((await (await a.api(`/api/alerts?deviceId=${x.id}&ruleId=${ruleId}`)).json()) as Alert[]).map((al) => al.status)
    await waitFor(async () => ((await alertsOf('bin-full')).includes('active') ? true : null), 10_000)
    await waitFor(async () => ((await alertsOf('bin-not-collected')).includes('active') ? true : null), 10_000)
    // The crew marks it collected on node A; node B's engine hears of it, and the next reading ends the alert.
    expect((await a.api(`/api/bins/${x.id}/collections`, json('POST', { at: new Date(now - 90 * 60_000).toISOString() }))).status).toBe(201)
    // A reading on each look: whichever first follows node B's hearing of the mark ends it (the notice and the
    // readings travel separately, so the first reading may be taken before it).
    let k = 0
    await waitFor(async () => {
      await publishX(now - H + k++ * 1_000, 0.62)
      return (await alertsOf('bin-not-collected')).every((s) => s === 'cleared') ? true : null
    }, 10_000)

    // Bin Y: read by node C, connected to node A; filling 2 % an hour. Node B reads neither.
    const y = await a.provision({ id: idReadBy('bin-y', by, 2), type: 'bin', site })
    const yDevice = await connectDevice(a.mqttUrl, y.id, y.secret)
    devices.push(yDevice)
    for (let i = 0; i <= 20; i++) {
      const readings = { fillingLevel: Math.round((0.3 + 0.02 * i) * 1000) / 1000, temperature: 9, batteryPct: 80, tilted: false }
      await yDevice.publishAsync(telemetryTopic({ site, type: 'bin', id: y.id }), JSON.stringify({ ts: now - (20 - i) * H, readings }), {
        qos: 1,
      })
    }
    type Outlook = { ratePerDay: number | null; at: string | null; reachesAt: string | null }
    const outlookOn = async (n: TestService) => (await (await n.api(`/api/bins/${y.id}/outlook`)).json()) as Outlook
    const owner = await waitFor(async () => {
      const o = await outlookOn(c)
      return o.at === new Date(now).toISOString() ? o : null
    }, 10_000)
    expect(owner.ratePerDay).toBeCloseTo(0.48, 2)
    // Nodes A and B answer from what node C's engine committed: the same outlook.
    for (const n of [a, b]) await waitFor(async () => ((await outlookOn(n)).at === owner.at ? true : null), 5_000)
    for (const n of [a, b]) expect(await outlookOn(n)).toEqual(owner)

    // The crew's list on every node: each bin's latest fill and when it will be full, whichever node took its readings.
    type Crew = { bins: { id: string; fill: number | null; fullAt: string | null }[] }
    for (const n of nodes) {
      const list = await waitFor(async () => {
        const crew = (await (await n.api('/api/crew/today')).json()) as Crew
        const bx = crew.bins.find((bin) => bin.id === x.id)
        const bY = crew.bins.find((bin) => bin.id === y.id)
        return bx?.fill === 0.62 && bY?.fill === 0.7 ? { bx, bY } : null
      }, 5_000)
      expect(list.bY.fullAt).toBe(owner.reachesAt)
      expect(list.bY.fullAt).not.toBeNull()
    }
  }, 90_000)

  it("lets a boiler read by one node use the outside temperature of its site's weather sensor read by another", async () => {
    const [a, b, c] = nodes as [TestService, TestService, TestService]
    const by = await owners()
    const site = 'tower-estate'
    const wx = await a.provision({ id: idReadBy('wx', by, 0), type: 'weather', site })
    const boiler = await a.provision({ id: idReadBy('boiler', by, 1), type: 'boiler', site })
    const wxDevice = await connectDevice(c.mqttUrl, wx.id, wx.secret)
    const boilerDevice = await connectDevice(c.mqttUrl, boiler.id, boiler.secret)
    devices.push(wxDevice, boilerDevice)
    const t0 = Date.now() - 80 * 60_000
    await wxDevice.publishAsync(
      telemetryTopic({ site, type: 'weather', id: wx.id }),
      JSON.stringify({ ts: t0, readings: { outsideTemp: 1.5 } }),
      {
        qos: 1,
      },
    )
    // Node B has it once its view of the sensor shows it (the same follow hands it to its engines, in the same step).
    await waitFor(async () => {
      const d = (await (await b.api(`/api/devices/${wx.id}`)).json()) as { state: { latest: unknown } }
      return d.state.latest ? true : null
    }, 5_000)
    // Asked for heat, burner off, flow cold, for 70 minutes, on a cold day: no heat.
    for (let i = 1; i <= 14; i++) {
      const readings = { flowTemp: 24, returnTemp: 22, pressureBar: 1.2, burnerOn: false, lockout: false, heatingDemand: true }
      await boilerDevice.publishAsync(
        telemetryTopic({ site, type: 'boiler', id: boiler.id }),
        JSON.stringify({ ts: t0 + i * 5 * 60_000, readings }),
        {
          qos: 1,
        },
      )
    }
    await waitFor(async () => {
      const list = (await (await b.api(`/api/alerts?deviceId=${boiler.id}&ruleId=boiler-no-heat`)).json()) as Alert[]
      return list.length === 1 ? list : null
    }, 10_000)
  }, 60_000)

  it('makes one incident of a site gone silent whose devices are read by every node, announced once, and clears it as they return', async () => {
    const [a, b, c] = nodes as [TestService, TestService, TestService]
    const by = await owners()
    const site = 'canal-court'
    const live = io(c.url, { auth: { token: c.token }, transports: ['websocket'] })
    const raised: Incident[] = []
    const cleared: Incident[] = []
    live.on('incident:raised', (i: Incident) => i.site === site && raised.push(i))
    live.on('incident:cleared', (i: Incident) => i.site === site && cleared.push(i))
    await new Promise<void>((resolve, reject) => {
      live.once('connect', resolve)
      live.once('connect_error', reject)
    })
    try {
      // Two rooms read by each node, all connected to node A.
      const ids = [0, 0, 1, 1, 2, 2].map((reader, k) => idReadBy(`cc-room-${k}`, by, reader))
      const rooms: { id: string; client: MqttClient }[] = []
      for (const id of ids) {
        const made = await a.provision({ id, type: 'room', site, intervalS: 2 })
        const client = await connectDevice(a.mqttUrl, made.id, made.secret)
        devices.push(client)
        rooms.push({ id, client })
      }
      const report = () =>
        Promise.all(
          rooms.map((r) =>
            r.client.publishAsync(
              telemetryTopic({ site, type: 'room', id: r.id }),
              JSON.stringify({ ts: Date.now(), readings: { temperature: 19.5, humidity: 50 } }),
              { qos: 1 },
            ),
          ),
        )
      await report()
      // Silent after three missed intervals (6 s): one incident, whichever engine saw it first, with all six under it.
      const incident = await waitFor(async () => {
        const list = (await (await b.api(`/api/incidents?site=${site}`)).json()) as Incident[]
        return list.length === 1 && list[0]!.silent === 6 ? list[0]! : null
      }, 20_000)
      expect(incident).toMatchObject({ status: 'open', devices: 6, title: `6 devices at ${site} stopped reporting together` })
      const offline = (await (await a.api(`/api/alerts?site=${site}&ruleId=device-offline`)).json()) as Alert[]
      expect(offline.map((x) => x.incidentId)).toEqual(ids.map(() => incident.id))
      await new Promise((r) => setTimeout(r, 1_000))
      expect(raised.map((i) => i.id)).toEqual([incident.id])
      expect((await (await c.api(`/api/incidents?site=${site}`)).json()) as Incident[]).toHaveLength(1)

      await report()
      await waitFor(() => (cleared.some((i) => i.id === incident.id) ? true : null), 10_000)
      const after = (await (await c.api(`/api/incidents/${incident.id}`)).json()) as Incident
      expect(after).toMatchObject({ status: 'cleared', devices: 6, silent: 0 })
    } finally {
      live.close()
    }
  }, 60_000)

  it("changes open data's version on every node when any node's writer lands readings", async () => {
    const [, b, c] = nodes as [TestService, TestService, TestService]
    const by = await owners()
    const site = 'open-square'
    // Read (and written to InfluxDB) by node C; its open data asked of node B.
    const bin = await c.provision({ id: idReadBy('od-bin', by, 2), type: 'bin', site })
    const device = await connectDevice(c.mqttUrl, bin.id, bin.secret)
    devices.push(device)
    const send = (ts: number, fillingLevel: number) =>
      device.publishAsync(
        telemetryTopic({ site, type: 'bin', id: bin.id }),
        JSON.stringify({ ts, readings: { fillingLevel, temperature: 9, batteryPct: 80, tilted: false } }),
        { qos: 1 },
      )
    // Published through node C (open data is off by default); every node reads that from the registry.
    expect(
      (await c.api('/api/open-data/datasets/bin-fill-daily', { method: 'PUT', body: JSON.stringify({ published: true }) })).status,
    ).toBe(200)
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)
    const csv = `${b.url}/open/bin-fill-daily.csv?from=${day(-1)}&to=${day(2)}`
    const now = Date.now()
    await send(now - 60_000, 0.4)
    await waitFor(async () => ((await influxCount(b, bin.id)) === 1 ? true : null), 10_000)
    const first = await fetch(csv)
    expect(first.status).toBe(200)
    const etag = first.headers.get('etag')!
    expect(await first.text()).toContain(bin.id)
    expect((await fetch(csv, { headers: { 'if-none-match': etag } })).status).toBe(304)

    await send(now - 30_000, 0.45)
    await waitFor(async () => ((await influxCount(b, bin.id)) === 2 ? true : null), 10_000)
    // Node B's answer changes, though its own writers wrote nothing of it.
    const changed = await waitFor(async () => {
      const res = await fetch(csv, { headers: { 'if-none-match': etag } })
      return res.status === 200 ? res : null
    }, 5_000)
    expect(changed.headers.get('etag')).not.toBe(etag)
  })
})
