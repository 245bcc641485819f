import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { inject } from 'vitest'
import { engineSecrets, type NatsCluster, type PrivateRedis, startNatsCluster, startRedis } from '../../scripts/cluster-engines.ts'
import { freePort } from '../../scripts/free-port.ts'
import { createDatabase } from '../../scripts/postgres.ts'
import { type ChildService, spawnService } from './child-service.ts'
import type { LoadDevice } from './load.ts'
import { noteSecret } from './log-capture.ts'
import { telemetryTopic } from './service.ts'

/**
 * A cluster on loopback for issue 15's tests: three nats-servers, one Redis, one PostgreSQL
 * database, the run's influxd, and service nodes as real processes (`service/main.ts`) that
 * a test may kill -9. Every node shares the key file, the admin token and the InfluxDB database.
 */
export interface ClusterStack {
  nats: NatsCluster
  redis: PrivateRedis
  token: string
  influxUrl: string
  db: string
  nodes: Map<string, ClusterNode>
  /** Starts (or starts again) a node by name, on its own data dir and ports. */
  spawn(name: string): Promise<ClusterNode>
  close(): Promise<void>
}

export interface ClusterNode extends ChildService {
  name: string
  mqttPort: number
}

export async function startClusterStack(opts: { partitions?: number; env?: Record<string, string> } = {}): Promise<ClusterStack> {
  const dir = mkdtempSync(join(tmpdir(), 'sp-cluster-'))
  // The engines ask for credentials, as they must in production: the nodes read them from files.
  const secrets = engineSecrets(dir)
  noteSecret(secrets.token)
  noteSecret(secrets.password)
  const nats = await startNatsCluster({ token: secrets.token })
  const redis = await startRedis({ password: secrets.password })
  const pg = await createDatabase(inject('postgresUrl'))
  const keyFile = join(dir, 'server.key')
  writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 })
  const token = randomBytes(32).toString('base64url')
  noteSecret(token)
  const db = `t_${randomBytes(6).toString('hex')}`
  const influxUrl = inject('influxUrl')
  const nodes = new Map<string, ClusterNode>()
  const ports = new Map<string, { http: number; mqtt: number }>()
  return {
    nats,
    redis,
    token,
    influxUrl,
    db,
    nodes,
    async spawn(name) {
      let p = ports.get(name)
      if (!p) {
        p = { http: await freePort(), mqtt: await freePort() }
        ports.set(name, p)
      }
      const svc = await spawnService({
        dataDir: join(dir, name),
        influxUrl,
        db,
        token,
        httpPort: p.http,
        mqttPort: p.mqtt,
        startTimeoutMs: 90_000,
        env: {
          DATABASE_URL: pg.url,
          CLUSTER_NATS_URL: nats.url,
          CLUSTER_REDIS_URL: redis.url,
          CLUSTER_PARTITIONS: String(opts.partitions ?? 6),
          CLUSTER_NODE_ID: name,
          CLUSTER_LEASE_TTL_S: '3',
          SERVER_KEY_FILE: keyFile,
          ...secrets.env,
          MQTT_DEVICE_RATE: '0',
          ...opts.env,
        },
      })
      const node = { ...svc, name, mqttPort: p.mqtt }
      nodes.set(name, node)
      return node
    },
    async close() {
      for (const n of nodes.values()) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL')
      await Promise.all([...nodes.values()].map((n) => n.exited))
      await redis.stop()
      await nats.stop()
      await pg.drop().catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const readyOf = async (url: string) =>
  (await (await fetch(`${url}/ready`, { signal: AbortSignal.timeout(3_000) })).json()) as {
    status: string
    checks: Record<string, { ok: boolean; detail?: string }>
  }

/** The partitions a node says it reads, from its /ready. */
export const partitionsOf = async (url: string): Promise<number[]> => {
  const detail = (await readyOf(url)).checks.partitions?.detail ?? ''
  const list = /partition\(s\) \(([^)]*)\)/.exec(detail)?.[1] ?? ''
  return list ? list.split(', ').map((p) => Number(p.slice(1))) : []
}

/**
 * Devices that know every node (mqtt.js moves to the next server on each reconnect), publishing
 * QoS 1 at `ratePerS` in total. `reading(device, n)` says what a device's n-th reading is; each has
 * its own device time, so each acknowledged reading is one point.
 */
export async function clusterLoad(
  nodes: { mqttPort: number }[],
  devices: LoadDevice[],
  ratePerS: number,
  reading: (k: number, n: number) => { ts: number; body: string },
) {
  const clients: MqttClient[] = await Promise.all(
    devices.map(
      (d, k) =>
        new Promise<MqttClient>((resolve, reject) => {
          // Each device starts on a different node, then fails over in turn.
          const servers = nodes.map((_, i) => ({ host: '127.0.0.1', port: nodes[(k + i) % nodes.length]!.mqttPort }))
          const c = mqtt.connect({
            servers,
            clientId: d.id,
            username: d.id,
            password: d.secret,
            reconnectPeriod: 300,
            connectTimeout: 5_000,
            clean: true,
          })
          c.once('connect', () => resolve(c))
          c.once('error', reject)
        }),
    ),
  )
  const acked = new Map<string, Set<number>>()
  const sentTs = new Map<string, number[]>()
  const stats = { sent: 0, acked: 0, errors: 0, reconnects: 0, lastAckAt: Date.now() }
  for (const c of clients) c.on('reconnect', () => stats.reconnects++)
  const count = new Array<number>(devices.length).fill(0)
  let closed = false
  let i = 0
  let owed = 0
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    owed += (ratePerS * (now - last)) / 1000
    last = now
    for (; owed >= 1; owed--) {
      const k = i++ % clients.length
      const d = devices[k]!
      const r = reading(k, count[k]!++)
      stats.sent++
      const ts = sentTs.get(d.id)
      if (ts) ts.push(r.ts)
      else sentTs.set(d.id, [r.ts])
      clients[k]!.publish(telemetryTopic(d), r.body, { qos: 1 }, (err) => {
        if (err) {
          stats.errors++
          return
        }
        stats.acked++
        stats.lastAckAt = Date.now()
        const s = acked.get(d.id)
        if (s) s.add(r.ts)
        else acked.set(d.id, new Set([r.ts]))
      })
    }
  }, 20)
  return {
    stats,
    acked,
    sentTs,
    /** Stops sending and waits for the outstanding acknowledgements (devices resend until acknowledged). */
    async stop(waitMs = 30_000) {
      clearInterval(timer)
      const deadline = Date.now() + waitMs
      while (stats.acked + stats.errors < stats.sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    },
    /**
     * Ends every client; a second call (from a test's clean-up) does nothing. Each end is given 5 s:
     * mqtt.js has an open report of forced ends never called back (mqttjs/MQTT.js#710), and an end
     * that never comes must not hold the test; past that the client has stopped reconnecting all the
     * same. Says how many ends went unconfirmed.
     */
    async close(): Promise<number> {
      if (closed) return 0
      closed = true
      const ended = await Promise.all(
        clients.map((c) =>
          Promise.race([
            c.endAsync(true).then(
              () => true,
              () => true,
            ),
            new Promise<boolean>((r) => setTimeout(() => r(false), 5_000).unref()),
          ]),
        ),
      )
      return ended.filter((e) => !e).length
    },
  }
}

/** Every partition owned by a live node and every reader of it caught up: what the cluster stores is final. */
export async function caughtUp(stack: ClusterStack, partitions: number): Promise<boolean> {
  const live = [...stack.nodes.values()].filter((n) => n.child.exitCode === null && n.child.signalCode === null)
  const owned = new Set<number>()
  for (const n of live) {
    const r = await readyOf(n.url).catch(() => null)
    if (!r) return false
    for (const p of await partitionsOf(n.url)) owned.add(p)
    for (const [name, c] of Object.entries(r.checks)) if (name.startsWith('reader:') && !c.detail?.startsWith('0 records')) return false
  }
  return owned.size === partitions
}
