import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { connect } from 'nats'
import { freePort } from './free-port.ts'

/**
 * The engines of cluster mode (issue 15), started privately on loopback for the tests and for
 * `scripts/cluster.sh`: Debian's nats-server (JetStream, a cluster of three) and redis-server.
 * The single-node default needs neither.
 */

/** Debian keeps nats-server in /usr/sbin, off a normal user's PATH. */
export function findBinary(name: 'nats-server' | 'redis-server'): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name)
  }
  const pkg = name === 'nats-server' ? 'nats-server' : 'redis-server'
  throw new Error(`${name} not found. Install it with: sudo apt-get install -y ${pkg}`)
}

export const waitForPort = async (port: number, timeoutMs = 15_000): Promise<void> => {
  const until = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()))

export interface NatsNode {
  name: string
  port: number
  url: string
  /** Stops it as a crash would (SIGKILL), or cleanly (SIGTERM). */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>
  /** Starts it again on the same ports and store. */
  restart(): Promise<void>
  readonly running: boolean
}

export interface NatsCluster {
  nodes: NatsNode[]
  /** Every node's client URL, comma-separated: what CLUSTER_NATS_URL takes. */
  url: string
  /** What clients must give, if the servers ask for it. */
  token: string | undefined
  dir: string
  stop(): Promise<void>
}

/** Three nats-servers in one JetStream cluster on loopback (ecosystem.md §5.9), each with its own store. */
export async function startNatsCluster(
  opts: { size?: number; dir?: string; log?: boolean /** Clients must give it, and routes (as their password). */; token?: string } = {},
): Promise<NatsCluster> {
  const bin = findBinary('nats-server')
  const size = opts.size ?? 3
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'sp-nats.'))
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })))
  const routeAuth = opts.token ? `route:${opts.token}@` : ''
  const routes = ports.map((p) => `nats-route://${routeAuth}127.0.0.1:${p.route}`).join(', ')
  const nodes: NatsNode[] = ports.map((p, i) => {
    const name = `n${i + 1}`
    const store = join(dir, name)
    mkdirSync(store, { recursive: true })
    const conf = join(dir, `${name}.conf`)
    writeFileSync(
      conf,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${p.client}`,
        `jetstream { store_dir: "${store}", max_mem: 64MB, max_file: 16GB }`,
        ...(opts.token
          ? [
              `authorization { token: "${opts.token}" }`,
              `cluster { name: smartplace, listen: 127.0.0.1:${p.route}, authorization { user: route, password: "${opts.token}" }, routes: [ ${routes} ] }`,
            ]
          : [`cluster { name: smartplace, listen: 127.0.0.1:${p.route}, routes: [ ${routes} ] }`]),
      ].join('\n'),
      { mode: 0o600 },
    )
    let child: ChildProcess | null = null
    const launch = () => {
      child = spawn(bin, ['-c', conf], { stdio: ['ignore', opts.log ? 'inherit' : 'ignore', opts.log ? 'inherit' : 'ignore'] })
    }
    launch()
    return {
      name,
      port: p.client,
      url: `nats://127.0.0.1:${p.client}`,
      get running() {
        return child !== null && child.exitCode === null && child.signalCode === null
      },
      async kill(signal = 'SIGKILL') {
        const c = child
        if (!c) return
        c.kill(signal)
        await exited(c)
      },
      async restart() {
        if (this.running) return
        launch()
        await waitForPort(p.client)
      },
    }
  })
  await Promise.all(ports.map((p) => waitForPort(p.client)))
  await jetStreamReady(
    nodes.map((n) => n.url),
    30_000,
    opts.token,
  )
  return {
    nodes,
    token: opts.token,
    url: nodes.map((n) => n.url).join(','),
    dir,
    async stop() {
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')))
      if (!opts.dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Waits until the servers have elected JetStream's meta leader: before that, every stream or bucket request fails. */
export async function jetStreamReady(servers: string[], timeoutMs = 30_000, token?: string): Promise<void> {
  const nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 200, ...(token ? { token } : {}) })
  try {
    const until = Date.now() + timeoutMs
    for (;;) {
      try {
        const jsm = await nc.jetstreamManager({ timeout: 1_000 })
        await jsm.getAccountInfo()
        return
      } catch (e) {
        if (Date.now() > until) throw new Error(`JetStream not ready after ${timeoutMs} ms: ${(e as Error).message}`)
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  } finally {
    await nc.close()
  }
}

export interface PrivateRedis {
  port: number
  /** Without the password: clients take it apart (CLUSTER_REDIS_PASSWORD_FILE), as the service does. */
  url: string
  password: string | undefined
  stop(): Promise<void>
}

/** A redis-server on loopback that keeps nothing on disk (it carries sessions and fan-out, not readings). */
export async function startRedis(opts: { password?: string } = {}): Promise<PrivateRedis> {
  const bin = findBinary('redis-server')
  const port = await freePort()
  // The password on the command line would show in the process list: it goes in on standard input, as a configuration file.
  const child = spawn(bin, ['-', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['pipe', 'ignore', 'ignore'],
  })
  child.stdin!.end(opts.password ? `requirepass "${opts.password}"\n` : '')
  await waitForPort(port)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    password: opts.password,
    async stop() {
      child.kill('SIGKILL')
      await exited(child)
    },
  }
}

/**
 * The engines' credentials for a cluster on this machine: a NATS token and a Redis password, each
 * in a file of its own (mode 0600) under `dir`, and the variables that point every node at them.
 * Hex, so that they fit in a route's URL as they are.
 */
export function engineSecrets(dir: string) {
  const token = randomBytes(32).toString('hex')
  const password = randomBytes(32).toString('hex')
  const tokenFile = join(dir, 'nats.token')
  const passwordFile = join(dir, 'redis.password')
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 })
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 })
  return { token, password, env: { CLUSTER_NATS_TOKEN_FILE: tokenFile, CLUSTER_REDIS_PASSWORD_FILE: passwordFile } }
}
