import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A private influxd (Debian's `influxdb` 1.x) on loopback, for `npm start` without INFLUX_URL, tests and the benchmark. */
export interface PrivateInfluxd {
  url: string
  port: number
  pid: number
  stop(): Promise<void>
  /** Stops the process but keeps its data (for outage tests); `start` brings it back on the same port. */
  kill(): Promise<void>
  start(): Promise<void>
}

export const INFLUXD_BIN = ['/usr/bin/influxd', '/usr/local/bin/influxd'].find(existsSync) ?? 'influxd'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo
      s.close(() => resolve(port))
    })
  })
}

export async function startInfluxd(opts: { dir?: string; keep?: boolean } = {}): Promise<PrivateInfluxd> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'sp-influxd-'))
  mkdirSync(dir, { recursive: true })
  const [port, rpcPort] = [await freePort(), await freePort()]
  const conf = join(dir, 'influxdb.conf')
  writeFileSync(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  cache-max-memory-size = 1073741824
[coordinator]
  log-queries-after = "0s"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
[continuous_queries]
  enabled = false
`,
  )
  const url = `http://127.0.0.1:${port}`
  let child: ChildProcess | null = null
  let log = ''

  const start = async () => {
    log = ''
    const c = spawn(INFLUXD_BIN, ['-config', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = c
    c.stdout?.on('data', (b: Buffer) => {
      log = (log + b.toString()).slice(-4000)
    })
    c.stderr?.on('data', (b: Buffer) => {
      log = (log + b.toString()).slice(-4000)
    })
    const spawnError = new Promise<never>((_, reject) =>
      c.once('error', (e) => reject(new Error(`cannot run ${INFLUXD_BIN}: ${e.message}. Install Debian's influxdb package.`))),
    )
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      if (c.exitCode !== null) throw new Error(`influxd exited with ${c.exitCode}:\n${log}`)
      const ok = await Promise.race([
        fetch(`${url}/ping`).then(
          (r) => r.status === 204,
          () => false,
        ),
        spawnError,
      ])
      if (ok) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`influxd did not answer /ping within 30 s:\n${log}`)
  }

  const kill = async () => {
    const c = child
    if (!c || c.exitCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill('SIGTERM')
    const t = setTimeout(() => c.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(t)
  }

  await start()
  return {
    url,
    port,
    get pid() {
      return child?.pid ?? -1
    },
    start,
    kill,
    async stop() {
      await kill()
      if (!opts.keep) rmSync(dir, { recursive: true, force: true })
    },
  }
}
