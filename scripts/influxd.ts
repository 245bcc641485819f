import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { freePort } from './free-port.ts'

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

export interface StartInfluxdOptions {
  dir?: string
  keep?: boolean
  /** Told when an influxd left behind on the same directory is stopped; stderr when absent. */
  log?: { warn(obj: object, msg: string): void }
}

export async function startInfluxd(opts: StartInfluxdOptions = {}): Promise<PrivateInfluxd> {
  // Absolute, so that the config path in influxd's command line identifies the directory (see influxdsUsing).
  const dir = resolve(opts.dir ?? mkdtempSync(join(tmpdir(), 'sp-influxd-')))
  mkdirSync(dir, { recursive: true })
  const warn = opts.log
    ? opts.log.warn.bind(opts.log)
    : (obj: object, msg: string) => process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`)
  const conf = join(dir, 'influxdb.conf')
  // Two influxd on one data directory corrupt it; one left by a killed `npm start` goes before its config is rewritten.
  await stopStale(conf, warn)
  const [port, rpcPort] = [await freePort(), await freePort()]
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
    const c = spawnTied(INFLUXD_BIN, ['-config', conf])
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
      if (c.exitCode === 127) throw new Error(`cannot run ${INFLUXD_BIN}. Install Debian's influxdb package.`)
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

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find(existsSync)
let pdeathsig: boolean | undefined
// util-linux before 2.33 has setpriv without --pdeathsig.
const canPdeathsig = () => (pdeathsig ??= SETPRIV !== undefined && spawnSync(SETPRIV, ['--pdeathsig', 'KILL', '--', 'true']).status === 0)

/**
 * Spawns influxd so that it dies with this process, even when this process is SIGKILLed and cannot
 * clean up. Linux: PR_SET_PDEATHSIG through setpriv (util-linux), which then execs influxd, so the pid
 * is influxd's. The signal follows the spawning *thread*: call this from the main thread, not a worker.
 * SIGKILL loses nothing: influxd fsyncs its WAL before it acknowledges a write.
 * Elsewhere a small watchdog process kills influxd when its pipe from this process closes.
 */
function spawnTied(bin: string, args: string[]): ChildProcess {
  if (canPdeathsig()) return spawn(SETPRIV!, ['--pdeathsig', 'KILL', '--', bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  if (c.pid !== undefined) {
    const w = spawn(process.execPath, ['-e', WATCHDOG, String(c.pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true })
    w.on('error', () => {})
    w.unref()
    ;(w.stdin as Socket | null)?.unref()
  }
  return c
}

// The pipe reaches EOF only when every process holding its write end is gone: this one, however it ended.
const WATCHDOG = `const pid = Number(process.argv[1])
process.stdin.on('data', () => {}).on('end', () => { try { process.kill(pid, 'SIGKILL') } catch {} process.exit(0) })
setInterval(() => { try { process.kill(pid, 0) } catch { process.exit(0) } }, 1000)`

/**
 * Live influxd processes started with this config file, and the pid of the process they belong to.
 * The command line is read live, so a reused pid cannot be mistaken for influxd; this also finds
 * influxd left behind by versions that did not tie it to its parent. Linux only (/proc).
 */
function influxdsUsing(conf: string): { pid: number; ppid: number }[] {
  if (process.platform !== 'linux') return []
  const found: { pid: number; ppid: number }[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const argv = readProc(`/proc/${name}/cmdline`)?.split('\0') ?? []
    if (!argv.includes(conf) || !argv.some((a) => basename(a) === 'influxd')) continue
    const stat = procStat(Number(name))
    if (stat && stat.state !== 'Z') found.push({ pid: Number(name), ppid: stat.ppid })
  }
  return found
}

/**
 * Stops influxd on this config whose owner is gone. An influxd is only ever a child of the node process
 * that started it (setpriv execs it), so one whose parent is another live node process belongs to a
 * running service: that is refused rather than killed, since the two would share a data directory.
 * An orphan has been adopted by init or a subreaper; our own children are ours to replace.
 */
async function stopStale(conf: string, warn: (obj: object, msg: string) => void): Promise<void> {
  for (const { pid, ppid } of influxdsUsing(conf)) {
    if (ppid !== process.pid && isNode(ppid)) {
      throw new Error(`influxd (pid ${pid}) of process ${ppid} already runs on ${conf}; stop that process first`)
    }
    warn({ pid, conf }, 'stopping an influxd left behind on this data directory')
    signal(pid, 'SIGTERM')
    if (await gone(pid, 10_000)) continue
    signal(pid, 'SIGKILL')
    if (!(await gone(pid, 5_000))) throw new Error(`influxd (pid ${pid}) on ${conf} does not stop`)
  }
}

function isNode(pid: number): boolean {
  let exe: string | undefined
  try {
    exe = readlinkSync(`/proc/${pid}/exe`)
  } catch {
    // Another user's process: judge by its command line.
    exe = readProc(`/proc/${pid}/cmdline`)?.split('\0')[0]
  }
  return exe !== undefined && /^node/.test(basename(exe))
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    // A zombie is dead: whoever adopted it may be slow to reap it.
    const s = procStat(pid)
    if (!s || s.state === 'Z') return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

function signal(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
  }
}

function procStat(pid: number): { state: string; ppid: number } | null {
  const s = readProc(`/proc/${pid}/stat`)
  if (!s) return null
  // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
  const [state, ppid] = s.slice(s.lastIndexOf(')') + 2).split(' ')
  return state && ppid ? { state, ppid: Number(ppid) } : null
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}
