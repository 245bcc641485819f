import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { engineSecrets, startNatsCluster, startRedis } from '../../scripts/cluster-engines.ts'
import { createDatabase } from '../../scripts/postgres.ts'
import { onCleanup } from './cleanup.ts'
import { childPidsMatching } from './cluster-proc.ts'
import { type ServiceProcess, startServiceProcess } from './service-process.ts'

/** The processes of a path, by what they are, for reading their CPU. */
export interface PathPids {
  services: number[]
  nats: number[]
  redis: number[]
  /** The postmaster: its backends are its children. */
  postgres: number[]
}

export interface BenchCluster {
  nodes: ServiceProcess[]
  pids: PathPids
  /** Stops the nodes (SIGTERM, in parallel), then the engines; drops the database. */
  stop(): Promise<void>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The partitions a node says it reads, from its /ready (as test/helpers/cluster-stack.ts reads them). */
export async function partitionsOf(url: string): Promise<number[]> {
  const body = (await (await fetch(`${url}/ready`, { signal: AbortSignal.timeout(3_000) })).json()) as {
    checks: Record<string, { detail?: string }>
  }
  const list = /partition\(s\) \(([^)]*)\)/.exec(body.checks.partitions?.detail ?? '')?.[1] ?? ''
  return list ? list.split(', ').map((p) => Number(p.slice(1))) : []
}

/**
 * Cluster mode on loopback, as the tests start it (test/helpers/cluster-stack.ts, which needs
 * vitest): three nats-servers in one JetStream cluster, one redis-server, a fresh database on the
 * bench's PostgreSQL, one key file, and `size` service processes, each its own CLUSTER_NODE_ID,
 * data dir and ports, all writing to one InfluxDB database. Ready when every partition is read
 * and each node reads its fair share, so that the load meets the steady state, not a hand-over.
 */
export async function startBenchCluster(o: {
  root: string
  influxUrl: string
  db: string
  token: string
  pgAdminUrl: string
  postmaster: number
  partitions: number
  size?: number
}): Promise<BenchCluster> {
  const size = o.size ?? 3
  const undo: (() => unknown)[] = []
  const drops: (() => void)[] = []
  const own = (task: () => unknown) => {
    undo.push(task)
    drops.push(onCleanup(task))
  }
  const nodes: ServiceProcess[] = []
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    while (undo.length > 0) {
      try {
        await undo.pop()!()
      } catch (e) {
        process.stderr.write(`[bench] cluster stop: ${(e as Error).message}\n`)
      }
    }
    for (const d of drops) d()
  }
  try {
    const dir = mkdtempSync(join(tmpdir(), 'sp-bench-cluster-'))
    own(() => rmSync(dir, { recursive: true, force: true }))
    const secrets = engineSecrets(dir)
    const nats = await startNatsCluster({ token: secrets.token })
    own(() => nats.stop())
    const redis = await startRedis({ password: secrets.password })
    own(() => redis.stop())
    const pg = await createDatabase(o.pgAdminUrl)
    own(() => pg.drop())
    const keyFile = join(dir, 'server.key')
    writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 })

    // One at a time: the first node creates the schema, the stream and the buckets.
    for (let i = 0; i < size; i++) {
      nodes.push(
        await startServiceProcess({
          root: o.root,
          influxUrl: o.influxUrl,
          db: o.db,
          token: o.token,
          env: {
            DATABASE_URL: pg.url,
            CLUSTER_NATS_URL: nats.url,
            CLUSTER_REDIS_URL: redis.url,
            CLUSTER_PARTITIONS: String(o.partitions),
            CLUSTER_NODE_ID: `n${i + 1}`,
            SERVER_KEY_FILE: keyFile,
            ...secrets.env,
          },
        }),
      )
    }

    const fair = Math.ceil(o.partitions / size)
    const deadline = Date.now() + 60_000
    for (;;) {
      const owned = await Promise.all(nodes.map((n) => partitionsOf(n.url).catch(() => [] as number[])))
      if (new Set(owned.flat()).size === o.partitions && owned.every((p) => p.length <= fair)) break
      if (Date.now() > deadline) {
        const ready = await Promise.all(
          nodes.map((n) =>
            fetch(`${n.url}/ready`, { signal: AbortSignal.timeout(3_000) }).then(
              (r) => r.text(),
              (e: Error) => e.message,
            ),
          ),
        )
        throw new Error(
          `partitions not spread over the nodes within 60 s: ${owned.map((p, i) => `n${i + 1}: ${p.join(',')}`).join('; ')}\n` +
            ready.map((r, i) => `n${i + 1} /ready: ${r}\n${nodes[i]!.output().slice(-2000)}`).join('\n'),
        )
      }
      await sleep(200)
    }

    const natsPids = nats.nodes.flatMap((n) => childPidsMatching(join(nats.dir, `${n.name}.conf`)))
    const redisPids = childPidsMatching('redis-server').filter((pid) => childPidsMatching(String(redis.port)).includes(pid))
    if (natsPids.length !== nats.nodes.length) throw new Error(`found ${natsPids.length} nats-server processes, not ${nats.nodes.length}`)
    if (redisPids.length !== 1) throw new Error(`found ${redisPids.length} redis-server processes of port ${redis.port}, not 1`)
    return {
      nodes,
      pids: { services: nodes.map((n) => n.pid), nats: natsPids, redis: redisPids, postgres: [o.postmaster] },
      stop: stopAll,
    }
  } catch (e) {
    await stopAll()
    throw e
  }
}
