import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import mqtt, { type MqttClient } from 'mqtt'
import { freePort, type PrivateInfluxd, startInfluxd } from '../../scripts/influxd.ts'
import { apiProvisioner, fleetSpecs, provisionFleet } from '../../simulators/provision.ts'
import { type ChildService, spawnService } from '../helpers/child-service.ts'
import { alertLatency, visibleLatency } from './latency.ts'
import { runLoad } from './load.ts'
import { startPeer } from './peer.ts'
import { cpuSeconds } from './proc.ts'
import { scaleRun } from './scale.ts'

// `npm run bench`: every process it needs (influxd, the service, Mosquitto and the peer
// subscriber) is started here and stopped at the end; the load generator is this process.
// Prints a table and writes bench-results.json.
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    devices: { type: 'string', default: '50' },
    backlog: { type: 'string', default: '100000' },
    overload: { type: 'string', default: '60' },
    scale: { type: 'string', default: '10000' },
    'scale-seconds': { type: 'string', default: '30' },
  },
})
const SECONDS = Number(values.seconds)
const DEVICES = Number(values.devices)
const BACKLOG = Number(values.backlog)
const OVERLOAD_S = Number(values.overload)
const SCALE = Number(values.scale)
const SCALE_S = Number(values['scale-seconds'])
const FIXED_RATE = 2000

let ts = Date.now() - 6 * 86_400_000 // unique device times, inside the accepted window
const nextTs = () => ts++
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const phase = (name: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${name}\n`)

async function count(influxd: PrivateInfluxd, db: string): Promise<number> {
  const res = await fetch(`${influxd.url}/query?${new URLSearchParams({ db, q: 'SELECT count("fillingLevel") FROM "bin"' })}`)
  const body = (await res.json()) as { results: { series?: { values: number[][] }[] }[] }
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0
}

/**
 * Waits until `target` points are in, or the count has not grown for `stallMs` (a path that
 * lost readings never gets there), or the timeout. Returns the count and when it last grew.
 */
async function settle(influxd: PrivateInfluxd, db: string, target: number, timeoutMs = 60_000, stallMs = 5_000) {
  const deadline = Date.now() + timeoutMs
  let n = await count(influxd, db)
  let grewAt = Date.now()
  while (n < target && Date.now() < deadline && Date.now() - grewAt < stallMs) {
    await sleep(50)
    const m = await count(influxd, db)
    if (m > n) grewAt = Date.now()
    n = m
  }
  return { n, at: n >= target ? Date.now() : grewAt }
}

interface Ours {
  svc: ChildService
  token: string
  clients: MqttClient[]
  topics: string[]
  ids: string[]
  close(): Promise<void>
}

// Every service this run starts, so that a failing run still leaves nothing behind.
const started: ChildService[] = []

async function startOurs(influxd: PrivateInfluxd, db: string, env: Record<string, string> = {}, devices = DEVICES): Promise<Ours> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-bench-'))
  const token = randomBytes(32).toString('base64url')
  const svc = await spawnService({
    dataDir,
    influxUrl: influxd.url,
    db,
    token,
    httpPort: await freePort(),
    mqttPort: await freePort(),
    // One bench connection carries many devices' worth of traffic; the scale run opens 10,000 from one address.
    env: { MQTT_DEVICE_RATE: '0', MQTT_MAX_CONNECTIONS_PER_ADDRESS: '0', ...env },
  })
  started.push(svc)
  const list = devices
    ? await provisionFleet(fleetSpecs({ bin: devices, boiler: 0, meter: 0 }, 1, 'bench'), apiProvisioner(svc.url, token), null)
    : []
  const clients = await Promise.all(
    list.map((d) => mqtt.connectAsync(svc.mqttUrl, { clientId: d.id, username: d.id, password: d.secret, reconnectPeriod: 0 })),
  )
  return {
    svc,
    token,
    clients,
    topics: list.map((d) => `sp/v1/${d.site}/bin/${d.id}/telemetry`),
    ids: list.map((d) => d.id),
    async close() {
      await Promise.all(clients.map((c) => c.endAsync()))
      svc.child.kill('SIGTERM')
      await svc.exited
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Max rate, measured from the first publish to the last reading confirmed in InfluxDB. */
async function confirmedThroughput(influxd: PrivateInfluxd, db: string, clients: MqttClient[], topics: string[], base: number) {
  const t0 = Date.now()
  const r = await runLoad(clients, topics, 0, SECONDS, nextTs)
  const s = await settle(influxd, db, base + r.acked)
  const stored = s.n - base
  return { load: r, perSecond: stored / ((s.at - t0) / 1000), stored, lost: r.acked - stored }
}

const influxd = await startInfluxd()
const results: Record<string, unknown> = { devices: DEVICES, seconds: SECONDS }
const rows: [string, string, string][] = []
const row = (what: string, ours: string, peer = '') => rows.push([what, ours, peer])
const ms = (r: { p50: number; p99: number }) => `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}`
let lost = 0

try {
  phase('peer path')
  // Peer path: Mosquitto + minimal subscriber → same influxd, no validation.
  const peer = await startPeer(influxd.url, 'peer')
  const peerClients = await Promise.all(
    Array.from({ length: DEVICES }, (_, i) => mqtt.connectAsync(peer.mqttUrl, { clientId: `peer-pub-${i}`, reconnectPeriod: 0 })),
  )
  const peerTopics = peerClients.map((_, i) => `sp/v1/peer/bin/peer-${i}/telemetry`)
  const peerWarm = await runLoad(peerClients, peerTopics, 500, 2, nextTs)
  const peerMax = await confirmedThroughput(influxd, 'peer', peerClients, peerTopics, (await settle(influxd, 'peer', peerWarm.acked)).n)
  const peerCpu0 = peer.pids.map(cpuSeconds)
  const peerFixed = await runLoad(peerClients, peerTopics, FIXED_RATE, SECONDS, nextTs)
  const peerCpu = peer.pids.map((p, i) => cpuSeconds(p) - peerCpu0[i]!)
  const peerCpuPer1000 = (peerCpu.reduce((a, b) => a + b, 0) / peerFixed.acked) * 1000
  await Promise.all(peerClients.map((c) => c.endAsync()))
  await peer.stop()
  results.peer = { max: peerMax, fixed: peerFixed, cpuPer1000: peerCpuPer1000, brokerCpuS: peerCpu[0], subscriberCpuS: peerCpu[1] }

  phase('smartplace: max and fixed load')
  // Ours: validation, durable accept (fdatasync), alert rules, the full pipeline.
  const ours = await startOurs(influxd, 'ours')
  const warm = await runLoad(ours.clients, ours.topics, 500, 2, nextTs)
  const max = await confirmedThroughput(influxd, 'ours', ours.clients, ours.topics, (await settle(influxd, 'ours', warm.acked)).n)
  // Fixed load, with latency probes riding on two of the connections.
  const probeAlert = ours.clients[0]!
  const probeVisible = ours.clients[1]!
  const cpu0 = cpuSeconds(ours.svc.child.pid!)
  const [fixed, alerts, visible] = await Promise.all([
    runLoad(ours.clients.slice(2), ours.topics.slice(2), FIXED_RATE, SECONDS, nextTs),
    alertLatency({ apiUrl: ours.svc.url, token: ours.token, client: probeAlert, topic: ours.topics[0]!, seconds: SECONDS, everyMs: 50 }),
    visibleLatency({
      influxUrl: influxd.url,
      db: 'ours',
      client: probeVisible,
      topic: ours.topics[1]!,
      deviceId: ours.ids[1]!,
      seconds: SECONDS,
      everyMs: 250,
    }),
  ])
  const probes = alerts.sent + Math.round((SECONDS * 1000) / 250)
  const cpuPer1000 = ((cpuSeconds(ours.svc.child.pid!) - cpu0) / (fixed.acked + probes)) * 1000
  results.ours = { max, fixed, alerts, visible, cpuPer1000 }

  phase('overload')
  // Overload: offered at twice the sustainable rate, open loop.
  const offered = Math.round(2 * max.perSecond)
  const before = await count(influxd, 'ours')
  // Each device holds at most 200 unacknowledged readings and keeps the rest, as real ones do.
  const over = await runLoad(ours.clients, ours.topics, offered, OVERLOAD_S, nextTs, 20, 200)
  phase('after the overload')
  const after = await runLoad(ours.clients, ours.topics, 0, Math.min(SECONDS, 10), nextTs)
  phase('waiting for InfluxDB')
  const ackedTotal = over.acked + after.acked
  const storedOver = (await settle(influxd, 'ours', before + ackedTotal, 120_000)).n - before
  lost += ackedTotal - storedOver + max.lost
  results.overload = { offered, accepted: over.perSecond, during: over, after, lost: ackedTotal - storedOver }
  await ours.close()

  phase('durable accept off')
  // Durable accept off, for its cost.
  const off = await startOurs(influxd, 'ours_nofsync', { SPOOL_FSYNC: 'off' })
  const offMax = await confirmedThroughput(influxd, 'ours_nofsync', off.clients, off.topics, 0)
  await off.close()
  results.noFsync = offMax

  phase('drain')
  // Drain: a backlog built while InfluxDB is down, then timed into it.
  const drain = await startOurs(influxd, 'drain')
  await influxd.kill()
  let backlog = 0
  while (backlog < BACKLOG) backlog += (await runLoad(drain.clients, drain.topics, 0, 2, nextTs)).acked
  const t0 = Date.now()
  await influxd.start()
  // The drainer's retry backoff reaches 10 s during an outage: allow for it before calling a stall.
  const drained = (await settle(influxd, 'drain', backlog, 300_000, 30_000)).n
  const drainS = (Date.now() - t0) / 1000
  lost += backlog - drained
  results.drain = { backlog, drained, seconds: drainS, perSecond: drained / drainS }
  await drain.close()

  phase('scale')
  // Scale: many devices, each its own connection and credentials, on a fresh service.
  const scaled = await startOurs(influxd, 'scale', {}, 0)
  const scale = SCALE > 0 ? await scaleRun(scaled.svc, scaled.token, SCALE, 20, SCALE_S) : null
  await scaled.close()
  results.scale = scale

  row('sustained readings/s, QoS 1 publish → confirmed in InfluxDB', max.perSecond.toFixed(0), peerMax.perSecond.toFixed(0))
  row('  acknowledged but not in InfluxDB at that rate', String(max.lost), String(peerMax.lost))
  row('  ratio to the peer path', (max.perSecond / peerMax.perSecond).toFixed(2), '1')
  row(`publish→PUBACK p50 / p99 at ${FIXED_RATE}/s, ms`, ms(fixed), ms(peerFixed))
  row(`publish→visible in InfluxDB p50 / p99 at ${FIXED_RATE}/s, ms`, ms(visible), '')
  row(`publish→alert on Socket.IO p50 / p99 at ${FIXED_RATE}/s, ms`, `${ms(alerts)} (${alerts.samples} alerts)`, 'no alerts')
  row(`CPU-s per 1,000 readings at ${FIXED_RATE}/s (service / broker+subscriber)`, cpuPer1000.toFixed(3), peerCpuPer1000.toFixed(3))
  row(
    'durable accept off: sustained readings/s (cost of fdatasync)',
    `${offMax.perSecond.toFixed(0)} (on/off ${(max.perSecond / offMax.perSecond).toFixed(2)})`,
  )
  row(
    `overload: offered ${offered}/s for ${OVERLOAD_S} s, accepted readings/s`,
    `${over.perSecond.toFixed(0)} (${((over.perSecond / max.perSecond) * 100).toFixed(0)} % of sustainable)`,
  )
  row('  publish→PUBACK p50 / p99 during it, ms; readings devices kept back', `${ms(over)}; ${over.deferred}`)
  row(
    '  after the overload, readings/s at max',
    `${after.perSecond.toFixed(0)} (${((after.perSecond / max.perSecond) * 100).toFixed(0)} %)`,
  )
  row('  acknowledged during/after overload / in InfluxDB', `${ackedTotal} / ${storedOver}`)
  row('spool drain after an outage, readings/s', `${(drained / drainS).toFixed(0)} (${drained} in ${drainS.toFixed(1)} s)`)
  if (scale) {
    row(`scale: ${scale.devices} devices connected / connect time`, `${scale.connected} / ${scale.connectSeconds.toFixed(1)} s`)
    row(
      '  readings/s, service CPU %, service RSS MiB',
      `${scale.readingsPerSecond.toFixed(0)}, ${scale.cpuPercent.toFixed(0)} %, ${scale.rssMiB.toFixed(0)}`,
    )
  }
} finally {
  for (const svc of started) if (svc.child.exitCode === null) svc.child.kill('SIGKILL')
  await influxd.stop()
}

row('acknowledged readings lost', String(lost))
const w = Math.max(...rows.map(([k]) => k.length))
const w2 = Math.max(...rows.map(([, v]) => v.length), 'smartplace'.length)
process.stdout.write(`\nsmartplace benchmark: ${DEVICES} publisher connections, ${SECONDS} s per phase, QoS 1, one 2-core machine\n`)
process.stdout.write(`  ${''.padEnd(w)}  ${'smartplace'.padEnd(w2)}  Mosquitto + subscriber\n`)
for (const [k, v, p] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v.padEnd(w2)}  ${p}\n`)
writeFileSync('bench-results.json', JSON.stringify(results, null, 2))
process.stdout.write('\nwrote bench-results.json\n')
process.exit(lost === 0 ? 0 : 1)
