import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import mqtt, { type MqttClient } from 'mqtt'
import { freePort, startInfluxd } from '../../scripts/influxd.ts'
import { apiProvisioner, fleetSpecs, provisionFleet } from '../../simulators/provision.ts'

// `npm run bench`: the service as its own process (as in production), a load generator
// in this one, a private influxd. Prints a table and writes bench-results.json.
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, devices: { type: 'string', default: '50' } } })
const SECONDS = Number(values.seconds)
const DEVICES = Number(values.devices)

const CLK_TCK = 100
const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) / CLK_TCK
}
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN
}

const influxd = await startInfluxd()
const dataDir = mkdtempSync(join(tmpdir(), 'sp-bench-'))
const token = randomBytes(32).toString('base64url')
const [httpPort, mqttPort] = [await freePort(), await freePort()]
const db = 'bench'
const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'service/main.ts'], {
  env: {
    ...process.env,
    DATA_DIR: dataDir,
    HTTP_PORT: String(httpPort),
    MQTT_PORT: String(mqttPort),
    MQTT_WS_PORT: 'off',
    INFLUX_URL: influxd.url,
    INFLUX_DB: db,
    ADMIN_TOKEN: token,
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
})
await new Promise<void>((resolve) => child.stdout!.on('data', (b: Buffer) => b.toString().includes('smartplace is running') && resolve()))
const api = `http://127.0.0.1:${httpPort}`

const devices = await provisionFleet(fleetSpecs({ bin: DEVICES, boiler: 0, meter: 0 }, 1, 'bench'), apiProvisioner(api, token), null)
const clients: MqttClient[] = await Promise.all(
  devices.map((d) =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: d.id, username: d.id, password: d.secret, reconnectPeriod: 0 }),
  ),
)
const topics = devices.map((d) => `sp/v1/${d.site}/bin/${d.id}/telemetry`)
let tsCounter = Date.now() - 3_600_000 // unique device times so every reading is its own point
const payload = () => `{"ts":${tsCounter++},"readings":{"fillingLevel":0.42,"temperature":11.5,"batteryPct":80,"tilted":false}}`

/** Publishes at `rate` readings/s (0 = as fast as acknowledgements allow, 20 in flight per device) for `seconds`. */
async function load(rate: number, seconds: number) {
  const latencies: number[] = []
  let acked = 0
  const end = Date.now() + seconds * 1000
  const cpu0 = cpuSeconds(child.pid!)
  const send = (i: number) =>
    new Promise<void>((resolve) => {
      const t = performance.now()
      clients[i]!.publish(topics[i]!, payload(), { qos: 1 }, () => {
        latencies.push(performance.now() - t)
        acked++
        resolve()
      })
    })
  if (rate === 0) {
    await Promise.all(
      clients.map(async (_c, i) => {
        const inflight = new Set<Promise<void>>()
        while (Date.now() < end) {
          const p: Promise<void> = send(i).then(() => {
            inflight.delete(p)
          })
          inflight.add(p)
          if (inflight.size >= 20) await Promise.race(inflight)
        }
        await Promise.all(inflight)
      }),
    )
  } else {
    const tickMs = 10
    const perTick = (rate * tickMs) / 1000
    let owed = 0
    let i = 0
    const pending: Promise<void>[] = []
    while (Date.now() < end) {
      owed += perTick
      for (; owed >= 1; owed--) pending.push(send(i++ % clients.length))
      await new Promise((r) => setTimeout(r, tickMs))
    }
    await Promise.all(pending)
  }
  return {
    acked,
    perSecond: acked / seconds,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    cpuPer1000: ((cpuSeconds(child.pid!) - cpu0) / acked) * 1000,
  }
}

const count = async () => {
  const res = await fetch(`${influxd.url}/query?${new URLSearchParams({ db, q: 'SELECT count("fillingLevel") FROM "bin"' })}`)
  const body = (await res.json()) as { results: { series?: { values: number[][] }[] }[] }
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0
}

const warm = await load(500, 2)
const max = await load(0, SECONDS)
const fixed = await load(2000, SECONDS)
const totalAcked = warm.acked + max.acked + fixed.acked
const t0 = Date.now()
let stored = await count()
while (Date.now() - t0 < 30_000 && stored < totalAcked) {
  await new Promise((r) => setTimeout(r, 200))
  stored = await count()
}
const rss = rssMiB(child.pid!)

const rows: [string, string][] = [
  ['device connections', String(DEVICES)],
  ['sustained accepted readings/s (QoS 1, max)', max.perSecond.toFixed(0)],
  ['publish→PUBACK p50 / p99 at max, ms', `${max.p50.toFixed(1)} / ${max.p99.toFixed(1)}`],
  ['publish→PUBACK p50 / p99 at 2,000/s, ms', `${fixed.p50.toFixed(2)} / ${fixed.p99.toFixed(2)}`],
  ['service CPU-s per 1,000 readings at 2,000/s', fixed.cpuPer1000.toFixed(3)],
  ['acknowledged / stored in InfluxDB', `${totalAcked} / ${stored}`],
  ['service RSS, MiB', rss.toFixed(0)],
]
const w = Math.max(...rows.map(([k]) => k.length))
process.stdout.write(`\nsmartplace benchmark (${SECONDS} s per phase, durable accept: not yet, see issue 3)\n`)
for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`)
writeFileSync(
  'bench-results.json',
  JSON.stringify({ devices: DEVICES, seconds: SECONDS, max, fixed, totalAcked, stored, rssMiB: rss }, null, 2),
)

await Promise.all(clients.map((c) => c.endAsync()))
child.kill('SIGTERM')
await new Promise((r) => child.once('exit', r))
await influxd.stop()
rmSync(dataDir, { recursive: true, force: true })
process.exit(stored === totalAcked ? 0 : 1)
