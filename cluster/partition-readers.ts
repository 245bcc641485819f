import type { NatsConnection } from 'nats'
import type { Logger } from 'pino'
import type { LogRecord } from '#devices'
import type { ReaderHandler } from '../log/reader.ts'
import { subjectOf } from '../log/stream-log.ts'
import { createStreamReader, type StreamReader } from '../log/stream-reader.ts'
import { createPartitionLeases } from './partition-leases.ts'
import { purgePlan } from './purge-gate.ts'

/** One reader kind of one partition: its handler, named after both (`influxdb@p3`) so its checkpoint is its own. */
export interface PartitionReaderSpec {
  name: string
  handler: ReaderHandler
  /** Claims the reader's fence (store/reader-fences.ts) before it loads; readers whose effects are idempotent need none. */
  claim?: () => Promise<void>
  kinds: LogRecord['kind'][]
  maxRecords: number
  idleMs?: number
}

export interface PartitionReadersDeps {
  nc: () => NatsConnection
  stream: string
  node: string
  partitions: number
  replicas: number
  leaseTtlMs: number
  /** The readers of a partition this node has just taken (a fresh handler each time: state is loaded from the store). */
  readersOf(partition: number, epoch: number): PartitionReaderSpec[]
  /** A partition's readers have stopped (drained or abandoned): drop what was built for it. */
  dropped?(partition: number): void
  /** The running readers, kept up to date for /ready and the metrics. */
  running: Pick<StreamReader, 'name' | 'status'>[]
  /** How often what every reader of a partition has made durable is purged from the stream; unset or 0, never. */
  purgeEveryMs?: number
  log: Logger
  onFailure?(reader: string): void
}

/** How long a partition handed on cleanly may read on before it lets go. */
const DRAIN_MS = 5_000

/**
 * Runs, on this node, the log's readers of the partitions it holds a lease on (issue 15): taken
 * partitions get a fresh set of readers that resume from their checkpoints; a partition handed on
 * is read to the end first; a lease lost (this node cut off too long) stops its readers at once.
 */
export function createPartitionReaders(deps: PartitionReadersDeps) {
  const byPartition = new Map<number, StreamReader[]>()
  let leases: ReturnType<typeof createPartitionLeases> | null = null
  let purgeTimer: NodeJS.Timeout | null = null
  let purgeOff: string | null = 'not started'

  // The local log deletes a segment once every reader has passed it; the stream's partitions are purged
  // the same way, up to the oldest record any of their readers may still need, so the stream stays small
  // and only an unread backlog can fill it (then appends are refused, never dropped).
  const purge = async () => {
    const jsm = await deps.nc().jetstreamManager({ timeout: 5_000 })
    for (const [p, readers] of byPartition) {
      const need = readers.map((r) => r.durable())
      if (need.some((n) => n === null)) continue
      const below = Math.min(...(need as number[]))
      if (below > 1) await jsm.streams.purge(deps.stream, { filter: subjectOf(deps.stream, p), seq: below })
    }
  }

  const acquired = async (p: number, epoch: number) => {
    const readers = deps.readersOf(p, epoch).map((s) =>
      createStreamReader({
        name: s.name,
        partition: p,
        epoch,
        stream: deps.stream,
        nc: deps.nc(),
        handler: s.handler,
        ...(s.claim ? { claim: s.claim } : {}),
        logger: deps.log,
        maxRecords: s.maxRecords,
        idleMs: s.idleMs ?? 0,
        kinds: s.kinds,
        onFailure: () => deps.onFailure?.(s.name),
      }),
    )
    byPartition.set(p, readers)
    deps.running.push(...readers)
    for (const r of readers) r.start()
  }

  const released = async (p: number, drain: boolean) => {
    const readers = byPartition.get(p) ?? []
    byPartition.delete(p)
    const deadline = Date.now() + DRAIN_MS
    await Promise.all(readers.map((r) => (drain ? r.close(deadline) : r.abandon())))
    for (const r of readers) {
      const i = deps.running.indexOf(r)
      if (i >= 0) deps.running.splice(i, 1)
    }
    deps.dropped?.(p)
  }

  return {
    async start(deadline?: number) {
      leases = createPartitionLeases(
        { node: deps.node, partitions: deps.partitions, replicas: deps.replicas, ttlMs: deps.leaseTtlMs },
        { nc: deps.nc(), log: deps.log, acquired, released },
      )
      await leases.start(deadline)
      // Not on a server that would replay it as a purge of everything (purge-gate.ts): with it on, the
      // NATS-kill test lost acknowledged readings on Debian's nats-server 2.9.10.
      const plan = purgePlan(deps.purgeEveryMs, deps.nc().info?.version)
      if ('off' in plan) {
        purgeOff = plan.off
        deps.log.warn({ why: plan.off }, 'stream purge off')
      } else {
        purgeOff = null
        purgeTimer = setInterval(() => {
          purge().catch((e: Error) => deps.log.warn({ err: e.message }, 'stream purge failed; tried again later'))
        }, plan.everyMs)
        purgeTimer.unref()
      }
    },
    /** Purges now what every reader of this node's partitions has made durable (the timer does it every CLUSTER_PURGE_EVERY_S). */
    purge,
    /** Why the timer does not purge (a NATS server that would replay a purge wrongly, or set to 0); null when it does. */
    purgeOff: () => purgeOff,
    owned: () => leases?.owned() ?? [],
    liveNodes: () => leases?.liveNodes ?? 0,
    /** Hands every partition on, each read to the end first (SIGTERM), then leaves the cluster. */
    async close(deadline = Date.now() + 5_000) {
      if (purgeTimer) clearInterval(purgeTimer)
      await leases?.close(deadline)
    },
  }
}
export type PartitionReaders = ReturnType<typeof createPartitionReaders>
