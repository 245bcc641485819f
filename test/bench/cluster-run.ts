import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import mqtt from 'mqtt'
import { apiProvisioner, fleetSpecs, provisionFleet } from '../../simulators/provision.ts'
import type { ClusterBenchOptions } from './cluster-options.ts'
import { hostBusySeconds, processTable, treeCpuSeconds } from './cluster-proc.ts'
import { type PathPids, partitionsOf, startBenchCluster } from './cluster-stack.ts'
import { countReadings, settle } from './influx-count.ts'
import { runLoad } from './load.ts'
import { progress } from './progress.ts'
import { startServiceProcess } from './service-process.ts'

/** A: one node, the default config (SQLite, the local log); B: three nodes in cluster mode. */
export type ClusterPath = 'A' | 'B'

/** CPU seconds by group of processes; null where the path has no such process. */
export interface CpuGroups {
  services: number
  nats: number | null
  redis: number | null
  postgres: number | null
  /** Shared by both paths, and not a part of either: reported apart. */
  influxd: number
  /** This process: the devices' side, not the service's. */
  loadgen: number
  /** The whole host, every process: what is left after the groups above is someone else's (noise). */
  host: number
}

export interface ClusterRound {
  path: ClusterPath
  round: number
  position: number
  /** 1-minute load average when the path started. */
  load1: number
  /** Readings the devices published during the measured load. */
  sent: number
  acked: number
  /** Of the load's readings, in InfluxDB when the count settled. */
  landed: number
  /** Acknowledged but not in InfluxDB, even after the extra wait: a loss. */
  lost: number
  /** Acknowledged, in InfluxDB only after the count had stalled for 15 s (the extra wait). */
  late: number
  /** Device connections closed during the load (not reopened: what they still had to send went unacknowledged). */
  closed: number
  ackedPerS: number
  pubackP50: number
  pubackP99: number
  /** From the first publish to the count settling: the CPU window. */
  windowS: number
  /** From the end of the load to the count settling. */
  settleS: number
  cpuS: CpuGroups
  /** Idle, before the load, CPU ms per second of wall time. */
  idleMsPerS: CpuGroups
  /** CPU ms per acknowledged reading. */
  msPerReading: { services: number; engines: number | null; servicesEngines: number; influxd: number; loadgen: number }
  /** CPU seconds in the window of processes that are not the bench's: another user of the host. */
  otherCpuS: number
  /** The same, less what the processes burn idle (idleMsPerS over the window): the cost of readings alone. */
  netMsPerReading: { services: number; servicesEngines: number }
  startS: number
  /** B: the partitions each node read before and after the load (a lease that moved under load shows here). */
  ownership: { before: number[][]; after: number[][] } | null
  /** When readings went missing or unacknowledged: what the nodes said, and a later recount. */
  diagnostics: {
    /** Of the load's readings, in InfluxDB after waiting up to LATE_WAIT_MS more. */
    landedLater: number
    ready: string[]
    /** Warnings and errors the nodes logged (in the last 20 kB of each one's output), by message, counted. */
    warnings: Record<string, number>
    /** The last of each node's output (LOG_LEVEL warn). */
    output: string[]
  } | null
}

/** Log lines at warn or above, counted by message (and code or error, which say why). */
export function warningsOf(outputs: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const text of outputs)
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue
      try {
        const l = JSON.parse(line) as { level?: number; msg?: string; code?: string; detail?: string; err?: string }
        if ((l.level ?? 0) < 40) continue
        const why = [l.code, l.detail, l.err].filter(Boolean).join(': ').replace(/\d+/g, 'N')
        const key = `${l.msg ?? '?'}${why ? ` [${why}]` : ''}`
        out[key] = (out[key] ?? 0) + 1
      } catch {
        // not a log line
      }
    }
  return out
}

/** How much longer to wait for readings the settle gave up on, before calling them lost. */
const LATE_WAIT_MS = 60_000

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function cpuOf(pids: PathPids, influxdPid: number): CpuGroups {
  const table = processTable()
  const tree = (xs: number[]) => (xs.length === 0 ? null : treeCpuSeconds(xs, table))
  const self = process.cpuUsage()
  return {
    services: treeCpuSeconds(pids.services, table),
    nats: tree(pids.nats),
    redis: tree(pids.redis),
    postgres: tree(pids.postgres),
    influxd: treeCpuSeconds([influxdPid], table),
    loadgen: (self.user + self.system) / 1e6,
    host: hostBusySeconds(),
  }
}

const minus = (a: CpuGroups, b: CpuGroups): CpuGroups => {
  const d = (x: number | null, y: number | null) => (x === null || y === null ? null : x - y)
  return {
    services: a.services - b.services,
    nats: d(a.nats, b.nats),
    redis: d(a.redis, b.redis),
    postgres: d(a.postgres, b.postgres),
    influxd: a.influxd - b.influxd,
    loadgen: a.loadgen - b.loadgen,
    host: a.host - b.host,
  }
}

const scale = (c: CpuGroups, k: number): CpuGroups => ({
  services: c.services * k,
  nats: c.nats === null ? null : c.nats * k,
  redis: c.redis === null ? null : c.redis * k,
  postgres: c.postgres === null ? null : c.postgres * k,
  influxd: c.influxd * k,
  loadgen: c.loadgen * k,
  host: c.host * k,
})

export const enginesOf = (c: CpuGroups): number | null =>
  c.nats === null && c.redis === null && c.postgres === null ? null : (c.nats ?? 0) + (c.redis ?? 0) + (c.postgres ?? 0)

/**
 * One path, started fresh (its own InfluxDB database; in B fresh engines and database as well):
 * devices provisioned and connected (in B spread over the nodes), a warm-up, an idle window, then
 * the measured load; CPU of every process of the path is read before the load and once InfluxDB
 * holds every acknowledged reading (or stops growing).
 */
export async function runClusterPath(o: {
  path: ClusterPath
  round: number
  position: number
  root: string
  influxUrl: string
  influxdPid: number
  pg: { url: string; postmaster: number }
  opt: ClusterBenchOptions
  nextTs: () => number
  /** How many device times nextTs has handed out: readings sent. */
  issued: () => number
}): Promise<ClusterRound> {
  const { opt, path } = o
  const load1 = loadavg()[0]!
  const token = randomBytes(32).toString('base64url')
  const db = `cluster_${path.toLowerCase()}_r${o.round}`
  const t0 = performance.now()
  const stack =
    path === 'A'
      ? await (async () => {
          const svc = await startServiceProcess({ root: o.root, influxUrl: o.influxUrl, db, token })
          const pids: PathPids = { services: [svc.pid], nats: [], redis: [], postgres: [] }
          return { nodes: [svc], pids, stop: () => svc.stop() }
        })()
      : await startBenchCluster({
          root: o.root,
          influxUrl: o.influxUrl,
          db,
          token,
          pgAdminUrl: o.pg.url,
          postmaster: o.pg.postmaster,
          partitions: opt.partitions,
        })
  const startS = (performance.now() - t0) / 1000
  const clients: mqtt.MqttClient[] = []
  try {
    const first = stack.nodes[0]!
    const fleet = await provisionFleet(fleetSpecs({ bin: opt.devices }, 1, 'cb'), apiProvisioner(first.url, token), null)
    // Device k on node k mod n: in B each node carries a third of the connections and readings.
    for (let k = 0; k < fleet.length; k += 50) {
      const batch = fleet.slice(k, k + 50)
      clients.push(
        ...(await Promise.all(
          batch.map((d, j) =>
            mqtt.connectAsync(stack.nodes[(k + j) % stack.nodes.length]!.mqttUrl, {
              clientId: d.id,
              username: d.id,
              password: d.secret,
              reconnectPeriod: 0,
            }),
          ),
        )),
      )
    }
    const topics = fleet.map((d) => `sp/v1/${d.site}/bin/${d.id}/telemetry`)

    if (opt.warmSeconds > 0) {
      const warm = await runLoad(clients, topics, opt.rate / 2, opt.warmSeconds, o.nextTs)
      await settle(o.influxUrl, db, warm.acked, 60_000, 10_000)
    }
    await sleep(1_000)
    const idle0 = cpuOf(stack.pids, o.influxdPid)
    const i0 = performance.now()
    await sleep(opt.idleSeconds * 1000)
    const idleMsPerS = scale(minus(cpuOf(stack.pids, o.influxdPid), idle0), 1000 / ((performance.now() - i0) / 1000))
    const base = await countReadings(o.influxUrl, db)
    const owners = () =>
      path === 'B' ? Promise.all(stack.nodes.map((n) => partitionsOf(n.url).catch(() => [] as number[]))) : Promise.resolve(null)
    const ownedBefore = await owners()

    // A connection the service closes (an append it could not make fails the publish) stays closed: these devices do not reconnect.
    let closed = 0
    for (const c of clients) c.once('close', () => closed++)
    const sent0 = o.issued()
    const cpu0 = cpuOf(stack.pids, o.influxdPid)
    const w0 = performance.now()
    const load = await runLoad(clients, topics, opt.rate, opt.seconds, o.nextTs)
    const loadEnd = performance.now()
    const sent = o.issued() - sent0
    const closedDuringLoad = closed
    // Settled: every acknowledged reading in InfluxDB, or no growth for 15 s (a loss).
    const after = await settle(o.influxUrl, db, base + load.acked, 120_000, 15_000)
    const w1 = performance.now()
    const cpuS = minus(cpuOf(stack.pids, o.influxdPid), cpu0)
    const landed = after.n - base
    const ownedAfter = await owners()

    let diagnostics: ClusterRound['diagnostics'] = null
    if (landed < load.acked || sent > load.acked) {
      progress(
        `${path} round ${o.round}: ${Math.max(0, load.acked - landed)} acknowledged not in InfluxDB, ${sent - load.acked} without a PUBACK ` +
          `(${Math.max(0, landed - load.acked)} more landed than were acknowledged); waiting up to ${LATE_WAIT_MS / 1000} s more`,
      )
      const ready = await Promise.all(
        stack.nodes.map((n) =>
          fetch(`${n.url}/ready`, { signal: AbortSignal.timeout(3_000) }).then(
            (r) => r.text(),
            (e: Error) => e.message,
          ),
        ),
      )
      const later = await settle(o.influxUrl, db, base + load.acked, LATE_WAIT_MS, LATE_WAIT_MS)
      diagnostics = {
        landedLater: later.n - base,
        ready,
        warnings: warningsOf(stack.nodes.map((n) => n.output())),
        output: stack.nodes.map((n) => n.output().slice(-6000)),
      }
      progress(`  ${later.n - base} in InfluxDB after the wait`)
    }
    const dead = stack.nodes.filter((n) => n.child.exitCode !== null || n.child.signalCode !== null)
    if (dead.length > 0) throw new Error(`${path}: a service exited during the round:\n${dead[0]!.output().slice(-3000)}`)
    if (landed < load.acked) progress(`${path} round ${o.round}: ${load.acked - landed} acknowledged readings not in InfluxDB`)

    const engines = enginesOf(cpuS)
    const per = (s: number) => (s * 1000) / load.acked
    const windowS = (w1 - w0) / 1000
    const idleS = (msPerS: number) => (msPerS * windowS) / 1000
    return {
      path,
      round: o.round,
      position: o.position,
      load1,
      sent,
      acked: load.acked,
      landed,
      lost: Math.max(0, load.acked - (diagnostics?.landedLater ?? landed)),
      late: diagnostics ? Math.max(0, Math.min(load.acked, diagnostics.landedLater) - landed) : 0,
      closed: closedDuringLoad,
      ackedPerS: load.acked / ((loadEnd - w0) / 1000),
      pubackP50: load.p50,
      pubackP99: load.p99,
      windowS,
      settleS: (w1 - loadEnd) / 1000,
      cpuS,
      idleMsPerS,
      msPerReading: {
        services: per(cpuS.services),
        engines: engines === null ? null : per(engines),
        servicesEngines: per(cpuS.services + (engines ?? 0)),
        influxd: per(cpuS.influxd),
        loadgen: per(cpuS.loadgen),
      },
      otherCpuS: cpuS.host - cpuS.services - (engines ?? 0) - cpuS.influxd - cpuS.loadgen,
      netMsPerReading: {
        services: per(cpuS.services - idleS(idleMsPerS.services)),
        servicesEngines: per(cpuS.services + (engines ?? 0) - idleS(idleMsPerS.services + (enginesOf(idleMsPerS) ?? 0))),
      },
      startS,
      ownership: ownedBefore && ownedAfter ? { before: ownedBefore, after: ownedAfter } : null,
      diagnostics,
    }
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)))
    await stack.stop()
  }
}
