import { type ChildProcess, spawn } from 'node:child_process'
import { nodeFlags } from '../../scripts/node-flags.ts'
import { captureChildOutput, childLogLevel, noteSecret } from './log-capture.ts'

export interface ChildService {
  child: ChildProcess
  url: string
  mqttUrl: string
  exited: Promise<number | null>
  /**
   * What the process printed (the last 20,000 characters), for failure messages and checks: its log
   * lines at the level the test asked for (LOG_LEVEL in env, else warn), even when `npm test` runs it
   * at debug to capture everything into the log dir.
   */
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

/**
 * The real entry point (`service/main.ts`) as its own process, with the flags it runs with in production, so it can be killed with SIGKILL or SIGTERM.
 * Under `npm test` it logs at debug, stdout and stderr, into a `child-service-*.log` for the leak check (test/log-check/):
 * the cluster tests' load (test/solo/cluster-*.test.ts) logs nothing per reading at debug, only per connection.
 */
export async function spawnService(o: ChildOptions): Promise<ChildService> {
  const asked = o.env?.LOG_LEVEL ?? 'warn'
  noteSecret(o.token)
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
      ...o.env,
      LOG_LEVEL: childLogLevel(asked),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = captureChildOutput(child, 'service', asked)
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output()}`)), o.startTimeoutMs ?? 30_000)
    const check = () => {
      if (output().includes('smartplace is running')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout!.on('data', check)
    void exited.then((code) => reject(new Error(`service exited with ${code}:\n${output()}`)))
  })
  return { child, url: `http://127.0.0.1:${o.httpPort}`, mqttUrl: `mqtt://127.0.0.1:${o.mqttPort}`, exited, output }
}
