import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../scripts/free-port.ts'
import { nodeFlags } from '../../scripts/node-flags.ts'
import { captureChildOutput, childLogLevel, noteSecret } from '../helpers/log-capture.ts'
import { onCleanup } from './cleanup.ts'

export interface ServiceProcess {
  child: ChildProcess
  pid: number
  url: string
  mqttUrl: string
  /** The last output (log lines at warn and above), for failure messages and the warning count. */
  output(): string
  /** SIGTERM, wait for the exit, remove the data dir. */
  stop(): Promise<void>
}

export interface ServiceStart {
  /** The tree whose `service/main.ts` runs: this checkout, or an exported older commit. */
  root: string
  influxUrl: string
  db: string
  token: string
  env?: Record<string, string>
}

// One bench connection carries many devices' worth of traffic; the scale phase opens thousands from one address.
const BENCH_ENV = { MQTT_DEVICE_RATE: '0', MQTT_MAX_CONNECTIONS_PER_ADDRESS: '0' }

/**
 * Variables the bench sets that the tree's service/config.ts does not read (an older commit, or
 * a rename): the service would ignore them silently and run with its own defaults.
 */
export function unreadEnv(root: string, names = Object.keys(BENCH_ENV)): string[] {
  const config = readFileSync(join(root, 'service', 'config.ts'), 'utf8')
  return names.filter((n) => !config.includes(`${n}:`))
}

// Both the current and the baseline service start through here, with the same environment and
// each with its own tree's node flags (service/node-flags), so nothing but their code and those differs. Only the entry point and the environment
// names of service/config.ts are relied on: the internals are free to change between commits.
// Under `npm test` (the bench smoke test) it logs at debug into the log dir for the leak check (test/log-check/), both
// trees alike; a bench run on its own (no SP_TEST_LOG_DIR) keeps warn, so its figures are not a debug log's.
export async function startServiceProcess(o: ServiceStart): Promise<ServiceProcess> {
  noteSecret(o.token)
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-bench-'))
  const [httpPort, mqttPort] = [await freePort(), await freePort()]
  const child = spawn(process.execPath, [...nodeFlags(o.root), '--import', 'tsx', 'service/main.ts'], {
    cwd: o.root,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      MQTT_WS_PORT: 'off',
      INFLUX_URL: o.influxUrl,
      INFLUX_DB: o.db,
      ADMIN_TOKEN: o.token,
      ...BENCH_ENV,
      ...o.env,
      LOG_LEVEL: childLogLevel(o.env?.LOG_LEVEL ?? 'warn'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const dropCleanup = onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  })
  const output = captureChildOutput(child, 'bench-service', o.env?.LOG_LEVEL ?? 'warn')
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const url = `http://127.0.0.1:${httpPort}`

  // Ready when /ready says so: HTTP listens after the broker, and InfluxDB is reachable.
  try {
    const deadline = Date.now() + 30_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`service in ${o.root} exited with ${child.exitCode}:\n${output()}`)
      const ok = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) break
      if (Date.now() > deadline) throw new Error(`service in ${o.root} not ready within 30 s:\n${output()}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  } catch (e) {
    child.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
    dropCleanup()
    throw e
  }

  return {
    child,
    pid: child.pid!,
    url,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        // Its own shutdown timeout is 10 s; past that it is hung, and the next phase must not wait on it.
        const hung = setTimeout(() => child.kill('SIGKILL'), 15_000)
        await exited
        clearTimeout(hung)
      }
      rmSync(dataDir, { recursive: true, force: true })
      dropCleanup()
    },
  }
}
