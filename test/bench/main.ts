import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import mqtt, { type MqttClient } from 'mqtt'
import { freePort, type PrivateInfluxd, startInfluxd } from '../../scripts/influxd.ts'
import { apiProvisioner, fleetSpecs, provisionFleet } from '../../simulators/provision.ts'
import { type ChildService, spawnService } from '../helpers/child-service.ts'
import { type LoadResult, runLoad } from './load.ts'
import { cpuSeconds, rssMiB } from './proc.ts'

// `npm run bench`: the service as its own process (as in production), the load generator
// in this one, a private influxd. Prints a table and writes bench-results.json.
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    devices: { type: 'string', default: '50' },
    backlog: { type: 'string', default: '100000' },
  },
})
const SECONDS = Number(values.seconds)
const DEVICES = Number(values.devices)
const BACKLOG = Number(values.backlog)

let ts = Date.now() - 6 * 86_400_000 // unique device times, inside the accepted window
const nextTs = () => ts++

async function count(influxd: PrivateInfluxd, db: string): Promise<number> {
  const res = await fetch(`${influxd.url}/query?${new URLSearchParams({ db, q: 'SELECT count("fillingLevel") FROM "bin"' })}`)
  const body = (await res.json()) as { results: { series?: { values: number[][] }[] }[] }
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0
}

async function waitForCount(influxd: PrivateInfluxd, db: string, target: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  let n = await count(influxd, db)
  while (n < target && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    n = await count(influxd, db)
  }
  return n
}

interface Run {
  svc: ChildService
  clients: MqttClient[]
  topics: string[]
  db: string
  close(): Promise<void>
}

async function startRun(influxd: PrivateInfluxd, db: string, env: Record<string, string>): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-bench-'))
  const token = randomBytes(32).toString('base64url')
  const svc = await spawnService({
    dataDir,
    influxUrl: influxd.url,
    db,
    token,
    httpPort: await freePort(),
    mqttPort: await freePort(),
    // A load test is many devices' worth of traffic on each connection.
    env: { MQTT_DEVICE_RATE: '0', ...env },
  })
  const devices = await provisionFleet(fleetSpecs({ bin: DEVICES, boiler: 0, meter: 0 }, 1, 'bench'), apiProvisioner(svc.url, token), null)
  const clients = await Promise.all(
    devices.map((d) => mqtt.connectAsync(svc.mqttUrl, { clientId: d.id, username: d.id, password: d.secret, reconnectPeriod: 0 })),
  )
  const topics = devices.map((d) => `sp/v1/${d.site}/bin/${d.id}/telemetry`)
  return {
    svc,
    clients,
    topics,
    db,
    async close() {
      await Promise.all(clients.map((c) => c.endAsync()))
      svc.child.kill('SIGTERM')
      await svc.exited
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

const influxd = await startInfluxd()
const results: Record<string, unknown> = { devices: DEVICES, seconds: SECONDS }
const rows: [string, string][] = []
const ms = (r: LoadResult) => `${r.p50.toFixed(2)} / ${r.p99.toFixed(2)}`
let lost = 0

try {
  for (const fsync of ['on', 'off'] as const) {
    const db = `bench_${fsync}`
    const run = await startRun(influxd, db, { SPOOL_FSYNC: fsync })
    const warm = await runLoad(run.clients, run.topics, 500, 2, nextTs)
    const max = await runLoad(run.clients, run.topics, 0, SECONDS, nextTs)
    const cpu0 = cpuSeconds(run.svc.child.pid!)
    const fixed = await runLoad(run.clients, run.topics, 2000, SECONDS, nextTs)
    const cpuPer1000 = ((cpuSeconds(run.svc.child.pid!) - cpu0) / fixed.acked) * 1000
    const acked = warm.acked + max.acked + fixed.acked
    const stored = await waitForCount(influxd, db, acked, 60_000)
    lost += acked - stored
    results[`fsync_${fsync}`] = { max, fixed, cpuPer1000, acked, stored, rssMiB: rssMiB(run.svc.child.pid!) }
    rows.push(
      [`durable accept ${fsync === 'on' ? 'on (fdatasync)' : 'off (no fsync)'}: accepted readings/s at max`, max.perSecond.toFixed(0)],
      [`  publish→PUBACK p50 / p99 at max, ms`, ms(max)],
      [`  publish→PUBACK p50 / p99 at 2,000/s, ms`, ms(fixed)],
      [`  service CPU-s per 1,000 readings at 2,000/s`, cpuPer1000.toFixed(3)],
      [`  acknowledged / in InfluxDB`, `${acked} / ${stored}`],
    )
    await run.close()
  }
  const on = results.fsync_on as { max: LoadResult }
  const off = results.fsync_off as { max: LoadResult }
  rows.push(['cost of durability (max rate on / off)', (on.max.perSecond / off.max.perSecond).toFixed(2)])

  // Drain: build a backlog while InfluxDB is down, then time the spool draining into it.
  const run = await startRun(influxd, 'bench_drain', {})
  await influxd.kill()
  let backlog = 0
  while (backlog < BACKLOG) backlog += (await runLoad(run.clients, run.topics, 0, 2, nextTs)).acked
  const t0 = Date.now()
  await influxd.start()
  const drained = await waitForCount(influxd, 'bench_drain', backlog, 120_000)
  const drainS = (Date.now() - t0) / 1000
  lost += backlog - drained
  results.drain = { backlog, drained, seconds: drainS, perSecond: drained / drainS }
  rows.push(['spool drain after an outage, readings/s', `${(drained / drainS).toFixed(0)} (${drained} in ${drainS.toFixed(1)} s)`])
  rows.push(['service RSS after the backlog, MiB', rssMiB(run.svc.child.pid!).toFixed(0)])
  await run.close()
} finally {
  await influxd.stop()
}

rows.push(['acknowledged readings lost', String(lost)])
const w = Math.max(...rows.map(([k]) => k.length))
process.stdout.write(`\nsmartplace benchmark: ${DEVICES} device connections, ${SECONDS} s per phase, QoS 1\n`)
for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`)
writeFileSync('bench-results.json', JSON.stringify(results, null, 2))
process.stdout.write('\nwrote bench-results.json\n')
process.exit(lost === 0 ? 0 : 1)
