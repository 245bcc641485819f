import { hostname } from 'node:os'
import type { Logger } from 'pino'
import { deviceTypeOf, type ReadingRecord, type WrittenSpan } from '#devices'
import { ALERT_READER, type AlertEngine } from '../alerts/engine.ts'
import { createChangeNotices } from '../cluster/change-notices.ts'
import type { createEngineRouter } from '../cluster/engine-router.ts'
import { createLiveFollow } from '../cluster/live-follow.ts'
import { createPartitionReaders, type PartitionReaders } from '../cluster/partition-readers.ts'
import { createSingleton } from '../cluster/singleton.ts'
import { COLLECTION_READER } from '../collections/recorder.ts'
import type { LiveState } from '../ingest/live-state.ts'
import { partitionOf } from '../log/partition.ts'
import type { Refusal } from '../log/port.ts'
import type { ReaderHandler } from '../log/reader.ts'
import type { Position } from '../log/segments.ts'
import { createStreamLog, type StreamLog } from '../log/stream-log.ts'
import type { StreamReader } from '../log/stream-reader.ts'
import type { OutboxThread } from '../outbox/thread.ts'
import { createQuarantineKeeper, QUARANTINE_READER } from '../quarantine/keeper.ts'
import type { Registry } from '../store/registry.ts'
import { readSecretFile } from '../store/secret-file.ts'
import type { ServiceConfig } from './config.ts'

/** Cluster mode's parts (issue 15), wired beside the single-machine ones in compose.ts. */
export interface ClusterIdentity {
  nats: string
  /** The NATS servers' token (CLUSTER_NATS_TOKEN_FILE). */
  natsToken: string | undefined
  /** With Redis's password in it, when it comes from CLUSTER_REDIS_PASSWORD_FILE: never logged. */
  redis: string
  node: string
}

/** Cluster mode is on when both engines are configured (config.ts checks the rest). */
export const clusterOf = (config: ServiceConfig): ClusterIdentity | null => {
  if (!config.CLUSTER_NATS_URL || !config.CLUSTER_REDIS_URL) return null
  const redis = new URL(config.CLUSTER_REDIS_URL)
  if (config.CLUSTER_REDIS_PASSWORD_FILE)
    redis.password = encodeURIComponent(secretIn('CLUSTER_REDIS_PASSWORD_FILE', config.CLUSTER_REDIS_PASSWORD_FILE))
  return {
    nats: config.CLUSTER_NATS_URL,
    natsToken: config.CLUSTER_NATS_TOKEN_FILE ? secretIn('CLUSTER_NATS_TOKEN_FILE', config.CLUSTER_NATS_TOKEN_FILE, true) : undefined,
    redis: redis.href,
    node: config.CLUSTER_NODE_ID ?? `${hostname()}-${process.pid}`,
  }
}

/** An engine's credential, read once as the service is put together: a file that cannot be read stops the start, saying which. */
function secretIn(variable: string, file: string, plain = false): string {
  const text = readSecretFile(variable, file).trim()
  // The token goes into the NATS servers' configuration and their routes' URLs as it is (docker-compose.yml).
  if (plain && !/^[A-Za-z0-9_.~-]*$/.test(text))
    throw new Error(
      `CONFIG_SECRET_FORMAT: ${variable}: ${file} holds characters other than letters, digits and _ . ~ -; make one with openssl rand -hex 32`,
    )
  if (text.length < 16)
    throw new Error(`CONFIG_SECRET_WEAK: ${variable}: ${file} holds fewer than 16 characters; make one with openssl rand -hex 32`)
  return text
}

/** The replicated log: a publish is acknowledged once a quorum of the stream's replicas has it. */
export const clusterLog = (config: ServiceConfig, cluster: ClusterIdentity, log: Logger, onRefused: (code: Refusal['code']) => void) =>
  createStreamLog(
    {
      servers: cluster.nats.split(','),
      token: cluster.natsToken,
      node: cluster.node,
      stream: 'SP_LOG',
      partitions: config.CLUSTER_PARTITIONS,
      replicas: config.CLUSTER_REPLICAS,
      publishTimeoutMs: 2_000,
      // The same ceiling as the local log's: past it, readings are refused, never dropped.
      maxBytes: config.SPOOL_MAX_MB * 1024 * 1024,
      duplicateWindowMs: 120_000,
      startTimeoutMs: 30_000,
    },
    log,
    onRefused,
  )

type InfluxWriter = ReaderHandler & { readonly lastError: string | null }

/**
 * The four readers of each partition this node takes, made afresh each time (their state is loaded
 * from the store). Those whose commits are not idempotent claim their fences with the lease's epoch
 * before they load (store/reader-fences.ts); InfluxDB's writes are (a point per device and time).
 */
export function clusterReaders(d: {
  config: ServiceConfig
  cluster: ClusterIdentity
  stream: StreamLog
  registry: Registry
  running: Pick<StreamReader, 'name' | 'status'>[]
  log: Logger
  onFailure: (reader: string) => void
  router: ReturnType<typeof createEngineRouter>
  influxWriters: Set<InfluxWriter>
  makeInfluxWriter: (checkpoint: { load(): Promise<Position | null>; save(p: Position): Promise<void> }) => InfluxWriter
  makeAlertEngine: (part: { reader: string; owns: (deviceId: string) => boolean; fence: number }) => AlertEngine
  makeCollectionRecorder: (reader: string, fence: number) => { handler: ReaderHandler }
  /** Crews' latest collection marks per bin (recent ones). */
  marks: () => Promise<ReadonlyMap<string, number>>
}): PartitionReaders {
  const { config, registry } = d
  const writersOf = new Map<number, InfluxWriter>()
  return createPartitionReaders({
    nc: () => d.stream.connection,
    stream: d.stream.stream,
    node: d.cluster.node,
    partitions: config.CLUSTER_PARTITIONS,
    replicas: config.CLUSTER_REPLICAS,
    leaseTtlMs: config.CLUSTER_LEASE_TTL_S * 1000,
    purgeEveryMs: config.CLUSTER_PURGE_EVERY_S * 1000,
    running: d.running,
    log: d.log,
    onFailure: d.onFailure,
    readersOf(p, epoch) {
      const at = (kind: string) => `${kind}@p${p}`
      const claim = (name: string) => () => registry.fences.claim(name, epoch)
      const writer = d.makeInfluxWriter({
        load: () => registry.checkpoints.get(at('influxdb')),
        save: (cp) => registry.checkpoints.set(at('influxdb'), cp),
      })
      writersOf.set(p, writer)
      d.influxWriters.add(writer)
      const engine = d.makeAlertEngine({
        reader: at(ALERT_READER),
        owns: (id) => partitionOf(id, config.CLUSTER_PARTITIONS) === p,
        fence: epoch,
      })
      d.router.add(p, engine)
      // A crew's mark told while no engine here held the partition (it was moving) is in the store.
      const engineHandler: ReaderHandler = {
        ...engine.handler,
        async load() {
          const from = await engine.handler.load()
          await engine.noteCollections(await d.marks())
          return from
        },
      }
      return [
        {
          name: at('influxdb'),
          handler: writer,
          kinds: ['reading'],
          maxRecords: config.INFLUX_BATCH_LINES,
          idleMs: config.INFLUX_FLUSH_MS,
        },
        {
          name: at(ALERT_READER),
          handler: engineHandler,
          claim: claim(at(ALERT_READER)),
          kinds: ['reading'],
          maxRecords: 1000,
          idleMs: 10,
        },
        {
          name: at(QUARANTINE_READER),
          handler: createQuarantineKeeper(registry, Date.now, at(QUARANTINE_READER), epoch),
          claim: claim(at(QUARANTINE_READER)),
          kinds: ['quarantine'],
          maxRecords: 500,
        },
        {
          name: at(COLLECTION_READER),
          handler: d.makeCollectionRecorder(at(COLLECTION_READER), epoch).handler,
          claim: claim(at(COLLECTION_READER)),
          kinds: ['reading'],
          maxRecords: 1000,
          idleMs: 250,
        },
      ]
    },
    dropped(p) {
      d.router.remove(p)
      const w = writersOf.get(p)
      if (w) d.influxWriters.delete(w)
      writersOf.delete(p)
    },
  })
}

/**
 * The outbox on one node at a time (its producer polls the shared store, so it sees what every node
 * commits): the node that stops hands it on, a dead node's lease expires and another takes it.
 */
export const clusterOutbox = (config: ServiceConfig, cluster: ClusterIdentity, stream: StreamLog, outbox: OutboxThread, log: Logger) =>
  createSingleton({
    name: 'outbox',
    nc: () => stream.connection,
    node: cluster.node,
    replicas: config.CLUSTER_REPLICAS,
    ttlMs: config.CLUSTER_LEASE_TTL_S * 1000,
    log,
    // The thread claims the fence itself, so a former holder still sending holds up only the outbox, not this lease's renewals.
    start: (epoch) => outbox.start(epoch),
    stop: (deadline) => outbox.close(deadline),
  })

/**
 * What each node must learn of the others' work (issue 15): the latest reading of every device,
 * whichever node took it (live views), and writes to the shared store that nodes keep a copy of
 * (rule overrides, schedules) or must act on (a crew's collection mark, for the engine of the bin's
 * partition), and the readings any node's writer landed (open data's change clock).
 */
export function clusterCrossing(d: {
  cluster: ClusterIdentity
  stream: StreamLog
  registry: Registry
  live: LiveState
  /** What notices keep in step, loaded again from the store: a notice lost while a node was cut off is made good. */
  reload: { rules: () => Promise<void>; schedules: () => Promise<void>; marks: () => Promise<void> }
  noteCollection: (deviceId: string, at: number, by: 'crew' | 'readings') => void
  /** A reading that supplies its site's values (a weather sensor's), for the engines of the other partitions. */
  noteSite: (r: ReadingRecord) => void
  /** Open data's change clock: another node's writer landed readings; or (`null`) notices may have been missed. */
  noteWritten: (spans: readonly WrittenSpan[] | null) => void
  log: Logger
}) {
  // A burst of notices is one reload running and at most one after it, not one each.
  const rules = coalesced(d.reload.rules, (e) => d.log.warn({ err: e.message }, 'reloading rule overrides failed'))
  const schedules = coalesced(d.reload.schedules, (e) => d.log.warn({ err: e.message }, 'reloading schedules failed'))
  const notices = createChangeNotices({
    nc: () => d.stream.connection,
    node: d.cluster.node,
    subject: `${d.stream.stream.toLowerCase()}_notices`,
    log: d.log,
    onNotice(n) {
      if (n.kind === 'overrides') rules()
      else if (n.kind === 'schedules') schedules()
      else if (n.kind === 'collection') d.noteCollection(n.deviceId, n.at, n.by)
      else d.noteWritten(n.spans)
    },
    resync: async () => {
      await Promise.all([d.reload.rules(), d.reload.schedules(), d.reload.marks()])
    },
    onReconnect: () => d.noteWritten(null),
    resyncEveryMs: 60_000,
  })
  const follow = createLiveFollow({
    nc: () => d.stream.connection,
    stream: d.stream.stream,
    log: d.log,
    onReading(r) {
      d.live.remember(
        { id: r.deviceId, type: r.type, site: r.site },
        r.ts,
        r.quality === 'good' ? 'accepted' : 'suspicious',
        r.readings,
        r.receivedAt,
      )
      // As in the engine itself: suspicious readings are never used for alerts.
      if (r.quality === 'good' && deviceTypeOf(r.type)?.toSite) d.noteSite(r)
    },
  })
  const offOverrides = d.registry.overrides.onChange(() => notices.publish({ kind: 'overrides' }))
  const offRounds = d.registry.rounds.onChange((c) => {
    if (c.kind === 'collection') notices.publish({ kind: 'collection', deviceId: c.deviceId, at: c.at, by: 'crew' })
    else if (c.kind === 'detected')
      notices.publish({ kind: 'collection', deviceId: c.collection.deviceId, at: Date.parse(c.collection.at), by: 'readings' })
    else notices.publish({ kind: 'schedules' })
  })
  return {
    start() {
      notices.start()
      follow.start()
    },
    /** This node's writer landed readings (after the write, so a version the others make then is of the new rows). */
    written(spans: WrittenSpan[]) {
      if (spans.length > 0) notices.publish({ kind: 'written', spans })
    },
    /** Since when this node has seen every node's readings without a break; null while it does not. */
    get followingSince() {
      return follow.liveSince
    },
    async close(deadline: number) {
      offOverrides()
      offRounds()
      await follow.close(deadline)
      await notices.close(deadline)
    },
  }
}
export type ClusterCrossing = ReturnType<typeof clusterCrossing>

/** Runs `fn`; called again while it runs, runs it once more after, however many calls came. */
export function coalesced(fn: () => Promise<unknown>, onError: (e: Error) => void): () => void {
  let running = false
  let again = false
  const run = (): void => {
    if (running) {
      again = true
      return
    }
    running = true
    fn()
      .catch(onError)
      .finally(() => {
        running = false
        if (!again) return
        again = false
        run()
      })
  }
  return run
}
