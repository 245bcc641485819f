import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { createFleet, type Fleet } from '../simulators/fleet.ts'
import { apiProvisioner, fleetSpecs, provisionFleet } from '../simulators/provision.ts'
import { engineSecrets, type NatsCluster, type PrivateRedis, startNatsCluster, startRedis } from './cluster-engines.ts'
import { freePort } from './free-port.ts'
import { type PrivateInfluxd, startInfluxd } from './influxd.ts'
import { nodeFlags } from './node-flags.ts'
import { type PrivatePostgres, startPostgres } from './postgres.ts'

/**
 * `npm run cluster`: cluster mode (issue 15) on one machine, for development. Three nats-servers (one
 * JetStream cluster), a redis-server, a private PostgreSQL and influxd, one key file and admin token, and
 * three service processes (service/main.ts) on loopback, with the simulated fleet spread over them.
 * Everything it keeps is under --dir (./data-cluster), so a second run finds the same cluster.
 * Ctrl-C or SIGTERM stops it in reverse order: the fleet, each node with SIGTERM (it hands its
 * partitions and the outbox on), then the engines.
 *
 * The process re-runs itself in a session of its own, so that Ctrl-C reaches this process only and not
 * every engine at once (the terminal signals its whole foreground process group): the part that stays in
 * the foreground forwards the signal and waits.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SUPERVISED = 'SP_CLUSTER_SUPERVISED'

const options = {
  dir: { type: 'string', default: './data-cluster' },
  nodes: { type: 'string', default: '3' },
  'no-sim': { type: 'boolean', default: false },
  bins: { type: 'string', default: '20' },
  boilers: { type: 'string', default: '20' },
  meters: { type: 'string', default: '10' },
  speed: { type: 'string', default: '60' },
  help: { type: 'boolean', default: false },
} as const
const args = (() => {
  try {
    return parseArgs({ options }).values
  } catch (e) {
    process.stderr.write(`${(e as Error).message}; see npm run cluster -- --help\n`)
    process.exit(2)
  }
})()

if (args.help) {
  process.stdout.write(`npm run cluster -- [--dir DIR] [--nodes N] [--no-sim] [--bins N] [--boilers N] [--meters N] [--speed X]
  A local cluster for development: three nats-servers (JetStream), redis-server, PostgreSQL, influxd and
  N service nodes (default 3) on loopback; data, key file and admin token under DIR (default ./data-cluster).
  CLUSTER_PARTITIONS (12), CLUSTER_REPLICAS (3), CLUSTER_LEASE_TTL_S (5), LOG_LEVEL and the service's other
  variables are passed to every node. Ctrl-C stops it: nodes first (each hands its partitions on), then the engines.
`)
  process.exit(0)
}

const count = (name: string, v: string | undefined, min: number, max: number) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`--${name} must be a whole number from ${min} to ${max}, got ${v}\n`)
    process.exit(2)
  }
  return n
}

/** The foreground half: runs the cluster in a session of its own and hands it our signals. */
async function supervise(): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, resolve(process.argv[1]!), ...process.argv.slice(2)], {
    detached: true,
    stdio: 'inherit',
    env: { ...process.env, [SUPERVISED]: '1' },
  })
  // The first signal: stop in order. Ctrl-C again (a second later: npm passes on the first one too): stop now.
  let first = 0
  const forward = (signal: NodeJS.Signals) => {
    if (!first) {
      first = Date.now()
      child.kill('SIGTERM')
    } else if (signal === 'SIGINT' && Date.now() - first > 1_000) child.kill('SIGINT')
  }
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, forward)
  const code = await new Promise<number>((r) => child.once('exit', (c, s) => r(c ?? (s ? 1 : 0))))
  process.exit(code)
}

interface State {
  /** The process that runs the cluster; gone when it stopped cleanly. */
  owner?: number
  partitions: number
  ports: Record<string, { http: number; mqtt: number }>
  mqttSpread?: number
  /** The admin token this script made was printed (once). */
  tokenShown?: boolean
  /** What runs now, by pid (cleared by a clean stop): what a run killed outright left behind is found by these. */
  pids?: Record<string, number>
  redisPort?: number
}

interface Node {
  name: string
  dir: string
  http: number
  mqtt: number
  child: ChildProcess
  exited: Promise<void>
  stopping: boolean
}

async function run(): Promise<void> {
  const dir = resolve(args.dir)
  const rel = relative(process.cwd(), dir) || '.'
  const nodeCount = count('nodes', args.nodes, 1, 9)
  const partitions = Number(process.env.CLUSTER_PARTITIONS || 12)
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 256) fail(`CLUSTER_PARTITIONS must be 1 to 256, got ${partitions}`)
  const sim = args['no-sim']
    ? null
    : {
        bins: count('bins', args.bins, 0, 10_000),
        boilers: count('boilers', args.boilers, 0, 10_000),
        meters: count('meters', args.meters, 0, 10_000),
        speed: Number(args.speed),
      }
  if (sim && !(sim.speed > 0)) fail(`--speed must be a positive number, got ${args.speed}`)

  // 0700; as root 0711, so that the postgres user (PostgreSQL refuses to run as root) can reach its own
  // directory inside. Everything in it is 0700 or 0600 either way.
  const isRoot = process.getuid?.() === 0
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, isRoot ? 0o711 : 0o700)
  // Keys, tokens and databases never reach git.
  if (!existsSync(join(dir, '.gitignore'))) writeFileSync(join(dir, '.gitignore'), '*\n')
  const logs = ensureDir(join(dir, 'logs'))

  const stateFile = join(dir, 'cluster.json')
  const previous = readState(stateFile)
  if (previous?.owner && previous.owner !== process.pid && isClusterScript(previous.owner))
    fail(`a cluster already runs on ${rel} (process ${previous.owner}); stop it first (Ctrl-C, or kill -TERM ${previous.owner})`)
  if (previous && previous.partitions !== partitions)
    fail(
      `the cluster in ${rel} has ${previous.partitions} partitions; CLUSTER_PARTITIONS=${partitions} would change it, and the count is fixed for the life of a cluster (delete ${rel} to start a new one)`,
    )
  if (previous) await reapLeftovers(dir, previous)
  const state: State = { ...previous, owner: process.pid, partitions, ports: previous?.ports ?? {}, pids: {} }
  const noteProcess = (name: string, pid: number | null | undefined) => {
    if (pid) state.pids = { ...state.pids, [name]: pid }
    saveState()
  }
  const saveState = () => {
    writeFileSync(`${stateFile}.tmp`, JSON.stringify(state, null, 1), { mode: 0o600 })
    renameSync(`${stateFile}.tmp`, stateFile)
  }
  saveState()

  // One key file every node reads (openssl rand -base64 32), and one admin token.
  const keyFile = join(dir, 'server.key')
  if (!existsSync(keyFile)) writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
  const tokenFile = join(dir, 'admin-token')
  let token = process.env.ADMIN_TOKEN
  if (!token) {
    if (!existsSync(tokenFile)) {
      writeFileSync(tokenFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
      state.tokenShown = false
    }
    token = readFileSync(tokenFile, 'utf8').trim()
  }
  const showToken = !process.env.ADMIN_TOKEN && !state.tokenShown

  // Stopped in reverse order of start.
  const stops: { name: string; stop: (hurry: boolean) => Promise<void> }[] = []
  const nodes: Node[] = []
  let fleet: Fleet | null = null
  let shuttingDown: Promise<void> | null = null
  let hurry = false
  const say = (line: string) => process.stdout.write(`${line}\n`)

  const shutdown = (why: string, code: number) => {
    if (shuttingDown) return shuttingDown
    shuttingDown = (async () => {
      say(`\nstopping the cluster (${why})`)
      for (const { name, stop } of stops.reverse()) {
        try {
          await stop(hurry)
        } catch (e) {
          process.stderr.write(`  ${name}: ${(e as Error).message}\n`)
        }
      }
      // A nats-server a failed start left without a handle.
      for (const pid of natsServersOn(join(dir, 'nats')).values()) await stopPid(pid, 'SIGKILL', 5_000)
      state.owner = undefined
      state.pids = undefined
      saveState()
      say('stopped')
      process.exit(code)
    })()
    return shuttingDown
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0))
  process.on('SIGHUP', () => void shutdown('SIGHUP', 0))
  // The supervisor sends SIGINT for a second Ctrl-C: whatever is still running is killed.
  process.on('SIGINT', () => {
    hurry = true
    for (const n of nodes) if (n.child.exitCode === null) n.child.kill('SIGKILL')
    void shutdown('SIGINT', 130)
  })
  // The supervisor gone (killed with SIGKILL): stop as if told to.
  const parent = process.ppid
  setInterval(() => {
    if (process.ppid !== parent) void shutdown('its terminal is gone', 1)
  }, 1_000).unref()

  try {
    say(`starting a ${nodeCount}-node cluster in ${rel} (${partitions} partitions)`)
    const natsDir = ensureDir(join(dir, 'nats'))
    // The engines take credentials, new each run (they all start again with it): nats.token and redis.password here.
    const secrets = engineSecrets(dir)
    const nats: NatsCluster = await startNatsCluster({ dir: natsDir, token: secrets.token })
    stops.push({
      name: 'nats-server',
      async stop(now) {
        for (const n of [...nats.nodes].reverse()) {
          if (now) await n.kill('SIGKILL')
          else await within(n.kill('SIGTERM'), 10_000, () => n.kill('SIGKILL'))
        }
      },
    })
    for (const [conf, pid] of natsServersOn(natsDir)) noteProcess(`nats-server ${conf}`, pid)
    say(`  NATS       ${nats.url} (JetStream, a cluster of ${nats.nodes.length})`)

    const redis: PrivateRedis = await startRedis({ password: secrets.password })
    stops.push({ name: 'redis-server', stop: () => redis.stop() })
    state.redisPort = redis.port
    noteProcess('redis-server', redisPidOf(redis.port, process.pid))
    say(`  Redis      ${redis.url}`)

    const pgServer: PrivatePostgres = await startPostgres({ dir: join(dir, 'postgres') })
    stops.push({ name: 'PostgreSQL', stop: () => pgServer.stop() })
    noteProcess('postgres', postmasterPid(pgServer.dir))
    const databaseUrl = await ensureDatabase(pgServer.url, 'smartplace')
    say(`  PostgreSQL ${databaseUrl}`)

    const influxd: PrivateInfluxd = await startInfluxd({
      dir: ensureDir(join(dir, 'influxdb')),
      keep: true,
      log: { warn: (obj, msg) => say(`  influxd: ${msg} ${JSON.stringify(obj)}`) },
    })
    stops.push({ name: 'influxd', stop: () => influxd.kill() })
    noteProcess('influxd', influxd.pid)
    say(`  InfluxDB   ${influxd.url}`)

    for (let i = 1; i <= nodeCount; i++) {
      const name = `node-${i}`
      const known = state.ports[name]
      const ports = {
        http: known && (await canListen(known.http)) ? known.http : await freePort(),
        mqtt: known && (await canListen(known.mqtt)) ? known.mqtt : await freePort(),
      }
      state.ports[name] = ports
      const node = await startNode({
        name,
        dir: ensureDir(join(dir, name)),
        log: join(logs, `${name}.log`),
        ports,
        env: {
          INFLUX_URL: influxd.url,
          DATABASE_URL: databaseUrl,
          CLUSTER_NATS_URL: nats.url,
          CLUSTER_REDIS_URL: redis.url,
          SERVER_KEY_FILE: keyFile,
          ...secrets.env,
          CLUSTER_NODE_ID: name,
          CLUSTER_PARTITIONS: String(partitions),
          ADMIN_TOKEN: token,
        },
      })
      nodes.push(node)
      noteProcess(name, node.child.pid)
      // Said as it happens: a node's death is what a developer of cluster mode may be trying out.
      void node.exited.then(() => {
        if (!node.stopping && !shuttingDown)
          say(
            `\n${name} (pid ${node.child.pid}) exited on its own; its partitions move to the others. Its log: ${relative(process.cwd(), join(logs, `${name}.log`))}`,
          )
      })
      stops.push({ name, stop: (now) => stopNode(node, now) })
      say(`  ${name}     started (pid ${node.child.pid})`)
    }

    // One address for all the nodes, as a load balancer in front of a cluster would be: each new
    // connection goes to the next node that answers, so a device whose node stopped comes back on another.
    const spreadPort = state.mqttSpread && (await canListen(state.mqttSpread)) ? state.mqttSpread : await freePort()
    state.mqttSpread = spreadPort
    const spread = await mqttSpread(spreadPort, () => nodes.filter((n) => n.child.exitCode === null && !n.stopping).map((n) => n.mqtt))
    stops.push({ name: 'MQTT spread', stop: () => closeSpread(spread) })
    saveState()

    if (sim) {
      const specs = fleetSpecs({ bin: sim.bins, boiler: sim.boilers, meter: sim.meters }, 1)
      const devices = await provisionFleet(
        specs,
        apiProvisioner(`http://127.0.0.1:${nodes[0]!.http}`, token),
        join(dir, 'sim-credentials.json'),
      )
      const f = createFleet({ url: `mqtt://127.0.0.1:${spreadPort}`, devices, speed: sim.speed, seed: 1 })
      fleet = f
      stops.push({ name: 'simulated fleet', stop: () => f.close() })
      await f.start()
    }

    const owned = await untilSpread(nodes, partitions, 60_000)

    const people = await fetch(`http://127.0.0.1:${nodes[0]!.http}/api/people`, { headers: { authorization: `Bearer ${token}` } })
      .then((r) => (r.ok ? (r.json() as Promise<unknown[]>) : null))
      .catch(() => null)
    const lines = [
      '',
      `smartplace cluster is running: ${nodeCount} node(s), ${partitions} partitions, data in ${rel}`,
      ...nodes.map(
        (n) =>
          `  ${n.name} (pid ${n.child.pid})  dashboard: http://127.0.0.1:${n.http}/  MQTT: mqtt://127.0.0.1:${n.mqtt}  reads ${owned.get(n.name) ?? '?'}`,
      ),
      `  MQTT, any node (each connection to the next node, as a load balancer would): mqtt://127.0.0.1:${spreadPort}`,
      sim && fleet ? `  simulated fleet: ${sim.bins + sim.boilers + sim.meters} devices spread over the nodes, speed ${sim.speed}` : '',
      showToken
        ? `  admin token (shown once; kept in ${relative(process.cwd(), tokenFile)}, mode 0600): ${token}`
        : process.env.ADMIN_TOKEN
          ? '  admin token: the ADMIN_TOKEN you set'
          : `  admin token: in ${relative(process.cwd(), tokenFile)}`,
      `  logs: ${relative(process.cwd(), logs)}/node-N.log; the CLIs against this cluster: DATABASE_URL=${databaseUrl} SERVER_KEY_FILE=${relative(process.cwd(), keyFile)} npm run devices -- list`,
      Array.isArray(people) && people.length === 0
        ? `  sign in: nobody can sign in yet. Create the first administrator (prints a one-time password):\n           DATABASE_URL=${databaseUrl} SERVER_KEY_FILE=${relative(process.cwd(), keyFile)} npm run people -- create-admin --email you@council.gov.uk --name "Your Name"`
        : '',
      'Ctrl-C stops it: the fleet, each node (handing its partitions on), then the engines.',
      '',
    ]
    process.stdout.write(`${lines.filter(Boolean).join('\n')}\n\n`)
    if (showToken) {
      state.tokenShown = true
      saveState()
    }
  } catch (e) {
    process.stderr.write(`\nthe cluster did not start: ${(e as Error).message}\n`)
    await shutdown('start failed', 1)
  }
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(2)
}

function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 })
  return path
}

function readState(file: string): State | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as State
  } catch {
    return null
  }
}

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })

async function within(p: Promise<void>, ms: number, otherwise: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const late = await Promise.race([
    p.then(() => false),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), ms)
    }),
  ])
  clearTimeout(timer)
  if (late) await otherwise()
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find(existsSync)
// util-linux before 2.33 has setpriv without --pdeathsig.
const pdeathsig = SETPRIV !== undefined && spawnSync(SETPRIV, ['--pdeathsig', 'TERM', '--', 'true']).status === 0

/** A service node as its own process (service/main.ts, with the service's node flags), its output in a log file. */
async function startNode(o: {
  name: string
  dir: string
  log: string
  ports: { http: number; mqtt: number }
  env: Record<string, string>
}): Promise<Node> {
  // The previous run's log is kept beside the new one.
  if (existsSync(o.log)) renameSync(o.log, `${o.log}.1`)
  const out: WriteStream = createWriteStream(o.log, { mode: 0o600 })
  const argv = [...nodeFlags(ROOT), '--import', 'tsx', 'service/main.ts']
  // If this process is killed outright, the node still gets its SIGTERM (and hands its partitions on).
  const [file, fileArgs] = pdeathsig ? [SETPRIV!, ['--pdeathsig', 'TERM', '--', process.execPath, ...argv]] : [process.execPath, argv]
  const child = spawn(file, fileArgs, {
    cwd: ROOT,
    env: {
      ...process.env,
      [SUPERVISED]: undefined,
      DATA_DIR: o.dir,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(o.ports.http),
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(o.ports.mqtt),
      MQTT_WS_PORT: 'off',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let tail = ''
  const keep = (b: Buffer) => {
    out.write(b)
    tail = (tail + b.toString()).slice(-4_000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  void exited.then(() => out.end())
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${o.name} did not start within 90 s; the end of its log:\n${tail}`)), 90_000)
    const check = () => {
      if (!tail.includes('smartplace is running')) return
      clearTimeout(timer)
      child.stdout!.off('data', check)
      resolve()
    }
    child.stdout!.on('data', check)
    child.once('error', (e) => reject(new Error(`cannot run ${o.name}: ${e.message}`)))
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`${o.name} exited with ${child.exitCode ?? child.signalCode}; the end of its log:\n${tail}`))
    })
  })
  return { name: o.name, dir: o.dir, http: o.ports.http, mqtt: o.ports.mqtt, child, exited, stopping: false }
}

/** SIGTERM: the node stops taking readings, hands its partitions (and the outbox) on, and exits within SHUTDOWN_TIMEOUT_MS. */
async function stopNode(node: Node, now: boolean): Promise<void> {
  node.stopping = true
  if (node.child.exitCode !== null || node.child.signalCode !== null) return
  const t0 = Date.now()
  node.child.kill(now ? 'SIGKILL' : 'SIGTERM')
  const budget = Number(process.env.SHUTDOWN_TIMEOUT_MS || 10_000) + 5_000
  await within(node.exited, budget, async () => {
    process.stdout.write(`  ${node.name} did not stop within ${budget} ms: SIGKILL\n`)
    node.child.kill('SIGKILL')
    await node.exited
  })
  process.stdout.write(`  ${node.name} stopped (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`)
}

/** Waits until every node answers /ready and the partitions they read add up to all of them. */
async function untilSpread(nodes: Node[], partitions: number, timeoutMs: number): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    const owned = new Map<string, string>()
    let total = 0
    let ready = true
    for (const n of nodes) {
      try {
        const res = await fetch(`http://127.0.0.1:${n.http}/ready`, { signal: AbortSignal.timeout(3_000) })
        const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> }
        const detail = body.checks.partitions?.detail ?? ''
        const list = /partition\(s\) \(([^)]*)\)/.exec(detail)?.[1] ?? ''
        total += list ? list.split(', ').length : 0
        owned.set(n.name, list || 'no partitions')
        if (body.status !== 'ready') {
          ready = false
          last = `${n.name}: ${Object.entries(body.checks)
            .filter(([, c]) => !c.ok)
            .map(([k, c]) => `${k} ${c.detail ?? ''}`)
            .join('; ')}`
        }
      } catch (e) {
        ready = false
        last = `${n.name}: ${(e as Error).message}`
      }
    }
    if (ready && total === partitions) return owned
    if (Date.now() > deadline) {
      process.stdout.write(
        `\nwarning: after ${timeoutMs / 1000} s the nodes read ${total} of ${partitions} partitions${ready ? '' : ` and not every node is ready (${last})`}\n`,
      )
      return owned
    }
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** A TCP round robin over the nodes' MQTT ports; a node that refuses is skipped. */
function mqttSpread(port: number, targets: () => number[]): Promise<Server> {
  let next = 0
  const open = new Set<Socket>()
  const server = createServer((client) => {
    open.add(client)
    client.on('close', () => open.delete(client))
    client.on('error', () => client.destroy())
    const ports = targets()
    const attempt = (k: number) => {
      if (k >= ports.length || client.destroyed) return client.destroy()
      const upstream = tcpConnect(ports[(next + k) % ports.length]!, '127.0.0.1')
      open.add(upstream)
      let connected = false
      upstream.once('connect', () => {
        connected = true
        next = (next + k + 1) % ports.length
        client.pipe(upstream).pipe(client)
      })
      upstream.on('error', () => {
        if (!connected) attempt(k + 1)
        upstream.destroy()
      })
      upstream.on('close', () => {
        open.delete(upstream)
        if (connected) client.destroy()
      })
      client.on('close', () => upstream.destroy())
    }
    attempt(0)
  })
  ;(server as Server & { openSockets?: Set<Socket> }).openSockets = open
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

function closeSpread(server: Server): Promise<void> {
  for (const s of (server as Server & { openSockets?: Set<Socket> }).openSockets ?? []) s.destroy()
  return new Promise((r) => server.close(() => r()))
}

/** The registry's database on the private PostgreSQL (trust on loopback), made on the first run. */
async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${name}`)
  } finally {
    await client.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

// ---- processes, by pid: never by name alone (other runs on this machine have nats-servers and redis-servers of their own)

function cmdline(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch {
    return null
  }
}

function ppidOf(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return null
  }
}

function isClusterScript(pid: number): boolean {
  return (cmdline(pid) ?? []).some((a) => a.endsWith('scripts/cluster.ts'))
}

/** redis-server on `port`: it rewrites its command line to "/usr/bin/redis-server 127.0.0.1:<port>" once it runs. */
const isRedisOn = (pid: number, port: number) => {
  const command = (cmdline(pid) ?? []).join(' ')
  return /redis-server/.test(command) && (command.endsWith(`127.0.0.1:${port}`) || command.includes(`--port ${port} `))
}

function redisPidOf(port: number, parent: number): number | null {
  for (const name of readdirSync('/proc')) {
    if (/^\d+$/.test(name) && ppidOf(Number(name)) === parent && isRedisOn(Number(name), port)) return Number(name)
  }
  return null
}

/** nats-servers whose config file is in `natsDir` (ours, whoever started them), by the config's name (n1, n2, n3). */
function natsServersOn(natsDir: string): Map<string, number> {
  const found = new Map<string, number>()
  if (!existsSync('/proc')) return found
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const argv = cmdline(Number(name)) ?? []
    const conf = argv.find((a) => a.startsWith(`${natsDir}/`) && a.endsWith('.conf'))
    if (argv[0]?.endsWith('nats-server') && conf) found.set(conf.slice(natsDir.length + 1, -'.conf'.length), Number(name))
  }
  return new Map([...found].sort(([a], [b]) => a.localeCompare(b)))
}

function postmasterPid(pgDir: string): number | null {
  try {
    return Number(readFileSync(join(pgDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) || null
  } catch {
    return null
  }
}

function environOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
  } catch {
    return []
  }
}

async function stopPid(pid: number, signal: NodeJS.Signals, waitMs: number): Promise<void> {
  try {
    process.kill(pid, signal)
  } catch {
    return
  }
  const deadline = Date.now() + waitMs
  while (Date.now() < deadline) {
    const stat = (() => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8')
      } catch {
        return null
      }
    })()
    if (!stat || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return
    await new Promise((r) => setTimeout(r, 100))
  }
  if (signal !== 'SIGKILL') await stopPid(pid, 'SIGKILL', 5_000)
}

/**
 * What a run killed outright (SIGKILL, a lost machine) may have left: its nodes (found by pid and their
 * DATA_DIR), its nats-servers (by their config files in this directory) and its redis-server (by pid and
 * port). PostgreSQL and influxd are handled by their own start (a stale postmaster.pid, a stale influxd).
 */
async function reapLeftovers(dir: string, previous: State): Promise<void> {
  const pids = previous.pids ?? {}
  for (const [name, pid] of Object.entries(pids)) {
    if (name.startsWith('node-') && environOf(pid).includes(`DATA_DIR=${join(dir, name)}`)) {
      process.stdout.write(`stopping ${name} (pid ${pid}), left running by an earlier run\n`)
      await stopPid(pid, 'SIGTERM', 15_000)
    }
  }
  for (const [conf, pid] of natsServersOn(join(dir, 'nats'))) {
    process.stdout.write(`stopping nats-server ${conf} (pid ${pid}), left running by an earlier run\n`)
    await stopPid(pid, 'SIGTERM', 10_000)
  }
  const redis = pids['redis-server']
  if (redis && previous.redisPort && isRedisOn(redis, previous.redisPort)) {
    process.stdout.write(`stopping redis-server (pid ${redis}), left running by an earlier run\n`)
    await stopPid(redis, 'SIGTERM', 10_000)
  }
}

// Last, so that every constant above is defined before either half runs.
if (process.env[SUPERVISED] !== '1') await supervise()
else await run()
