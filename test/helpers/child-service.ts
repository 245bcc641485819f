import { type ChildProcess, spawn } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { nodeFlags } from '../../scripts/node-flags.ts'
import { childLogFile, noteSecret } from './log-capture.ts'

export interface ChildService {
  child: ChildProcess
  url: string
  mqttUrl: string
  exited: Promise<number | null>
  /** Everything the process printed, for failure messages. */
  output(): string
}

export interface ChildOptions {
  dataDir: string
  influxUrl: string
  db: string
  token: string
  httpPort: number
  mqttPort: number
  env?: Record<string, string>
  /** Extra node flags, e.g. --cpu-prof for a profile. */
  nodeArgs?: string[]
  /** How long it may take to say it is running (a cluster node waits for NATS and its leases). */
  startTimeoutMs?: number
}

/** The real entry point (`service/main.ts`) as its own process, with the flags it runs with in production, so it can be killed with SIGKILL or SIGTERM. */
export async function spawnService(o: ChildOptions): Promise<ChildService> {
  const child = spawn(process.execPath, [...nodeFlags(), ...(o.nodeArgs ?? []), '--import', 'tsx', 'service/main.ts'], {
    env: {
      ...process.env,
      DATA_DIR: o.dataDir,
      HTTP_PORT: String(o.httpPort),
      MQTT_PORT: String(o.mqttPort),
      MQTT_HOST: '127.0.0.1',
      MQTT_WS_PORT: 'off',
      INFLUX_URL: o.influxUrl,
      INFLUX_DB: o.db,
      ADMIN_TOKEN: o.token,
      LOG_LEVEL: 'warn',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  noteSecret(o.token)
  const logFile = childLogFile('service')
  child.stdout!.on('data', (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000)
    if (logFile) appendFileSync(logFile, b)
  })
  child.stderr!.on('data', (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000)
  })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${out}`)), o.startTimeoutMs ?? 30_000)
    const check = () => {
      if (out.includes('smartplace is running')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout!.on('data', check)
    void exited.then((code) => reject(new Error(`service exited with ${code}:\n${out}`)))
  })
  return { child, url: `http://127.0.0.1:${o.httpPort}`, mqttUrl: `mqtt://127.0.0.1:${o.mqttPort}`, exited, output: () => out }
}
