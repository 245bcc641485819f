import {
  connect,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  RetentionPolicy,
  StorageType,
} from 'nats'
import type { Logger } from 'pino'
import type { LogRecord } from '#devices'
import { settledBy } from './deadline.ts'
import { partitionOf } from './partition.ts'
import type { AppendDone, DurableLog, Refusal } from './port.ts'

export interface StreamLogConfig {
  servers: string[]
  /** The servers' authorization token, if they ask for one. */
  token?: string | undefined
  /** This node's name, shown by the NATS servers for its connection. */
  node: string
  stream: string
  partitions: number
  replicas: number
  /** How long a publish waits for the stream's acknowledgement (a quorum of replicas) before it is refused. */
  publishTimeoutMs: number
  /** Ceiling on the stream's bytes; past it, appends are refused (never lost), like SPOOL_MAX_MB. */
  maxBytes: number
  /** A reading published twice in this window (the same device and time) is stored once. */
  duplicateWindowMs: number
  /** How long start() waits for JetStream to answer (a cluster electing its first leader). */
  startTimeoutMs: number
}

export const subjectOf = (stream: string, partition: number) => `${stream.toLowerCase()}.p${partition}`

const ms = (n: number) => n * 1_000_000

/** Start-up waits for JetStream (a new cluster takes a second or two to elect its meta leader). */
export async function untilReady<T>(what: string, deadline: number, attempt: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await attempt()
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(e as Error).message}`)
      await new Promise((r) => setTimeout(r, 250))
    }
  }
}

/**
 * The durable accept in cluster mode (issue 15): each record is published to a NATS JetStream
 * stream with `replicas` copies, on the subject of its device's partition, and acknowledged only
 * once the stream has it on a quorum of servers. No quorum (servers down, or this node cut off):
 * the publish fails, the record is refused exactly as at the local log's disk ceiling, and the
 * device resends it; the next publish that succeeds lifts the refusal by itself.
 */
export function createStreamLog(config: StreamLogConfig, log: Logger, onRefused?: (code: Refusal['code']) => void) {
  let nc: NatsConnection | null = null
  let js: JetStreamClient | null = null
  let jsm: JetStreamManager | null = null
  let refusal: Refusal | null = null
  let closed = true
  let inflight = 0
  let idle: (() => void)[] = []
  let bytes = 0
  let statsTimer: NodeJS.Timeout | null = null
  let streamInfo = ''
  let reconnecting = false

  const refuse = (code: Refusal['code'], detail: string) => {
    if (!refusal)
      log.error({ code, detail }, 'the replicated log refuses appends; readings are not acknowledged and devices will resend them')
    refusal = { code, detail, since: refusal?.since ?? Date.now() }
  }
  const lift = () => {
    if (!refusal) return
    log.info({ code: refusal.code, afterMs: Date.now() - refusal.since }, 'the replicated log accepts appends again')
    refusal = null
  }
  const settled = () => {
    inflight--
    if (inflight === 0) {
      const w = idle
      idle = []
      for (const f of w) f()
    }
  }

  const ensureStream = async (m: JetStreamManager) => {
    const want = {
      name: config.stream,
      subjects: [`${config.stream.toLowerCase()}.>`],
      num_replicas: config.replicas,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      // At the ceiling the stream refuses new records rather than dropping the oldest unread ones.
      discard: DiscardPolicy.New,
      max_bytes: config.maxBytes,
      duplicate_window: ms(config.duplicateWindowMs),
    }
    try {
      await m.streams.info(config.stream)
      await m.streams.update(config.stream, { max_bytes: want.max_bytes, duplicate_window: want.duplicate_window, discard: want.discard })
    } catch (e) {
      if (!/not found/i.test((e as Error).message)) throw e
      await m.streams.add(want)
    }
  }

  const refreshStats = async () => {
    if (!jsm) return
    try {
      const info = await jsm.streams.info(config.stream)
      bytes = info.state.bytes
      const c = info.cluster
      const replicas = c?.replicas ?? []
      const current = replicas.filter((r) => r.current && !r.offline).length
      streamInfo = c
        ? `leader ${c.leader ?? 'none'}, ${current + (c.leader ? 1 : 0)} of ${config.replicas} replicas current`
        : `${config.replicas} replica(s)`
      // A node that no device publishes to would otherwise stay "refusing" after the quorum is back.
      const quorum = Math.floor(config.replicas / 2) + 1
      if (refusal?.code === 'NO_QUORUM' && (!c || (c.leader && current + 1 >= quorum))) lift()
    } catch (e) {
      streamInfo = `stream info unavailable: ${(e as Error).message}`
    }
  }

  const classify = (e: Error): Refusal['code'] =>
    /maximum bytes|insufficient resources|max_bytes/i.test(e.message) ? 'STREAM_FULL' : 'NO_QUORUM'

  const api = {
    partitions: config.partitions,
    stream: config.stream,
    async start() {
      const deadline = Date.now() + config.startTimeoutMs
      nc = await connect({
        servers: config.servers,
        ...(config.token ? { token: config.token } : {}),
        name: `smartplace ${config.node}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        waitOnFirstConnect: true,
      })
      jsm = await untilReady('JetStream did not answer', deadline, () => nc!.jetstreamManager({ timeout: 2_000 }))
      await untilReady(`stream ${config.stream} could not be made`, deadline, () => ensureStream(jsm!))
      js = nc.jetstream({ timeout: config.publishTimeoutMs })
      void (async () => {
        for await (const st of nc!.status()) {
          if (st.type === 'disconnect' || st.type === 'reconnecting') reconnecting = true
          if (st.type === 'reconnect') reconnecting = false
        }
      })()
      closed = false
      await refreshStats()
      statsTimer = setInterval(() => void refreshStats(), 2_000).unref()
    },
    append(record: LogRecord, done: AppendDone) {
      if (closed || !js) return done(new Error('LOG_CLOSED: the service is shutting down'))
      const subject = subjectOf(config.stream, partitionOf(record.deviceId, config.partitions))
      // A device that resends a reading whose acknowledgement it missed gets the same id: stored once.
      const msgID = record.kind === 'reading' ? `${record.deviceId}|${record.ts}` : undefined
      inflight++
      js.publish(subject, Buffer.from(JSON.stringify(record)), { msgID, timeout: config.publishTimeoutMs }).then(
        () => {
          lift()
          settled()
          done(null)
        },
        (e: Error) => {
          const code = classify(e)
          refuse(code, `${e.message} (${streamInfo || 'no stream information yet'})`)
          onRefused?.(code)
          settled()
          done(new Error(`${code}: ${e.message}`))
        },
      )
    },
    flush(): Promise<void> {
      return inflight === 0 ? Promise.resolve() : new Promise((r) => idle.push(r))
    },
    get refusal(): Refusal | null {
      return refusal
    },
    damage: [] as const,
    stats() {
      return { bytes, segments: config.partitions, free: null }
    },
    /** The stream's leader and current replicas, as last seen (for /ready). */
    get health() {
      return streamInfo
    },
    /** connected, reconnecting or closed: the NATS client's own view. */
    connectionStatus(): string {
      if (!nc) return 'not connected'
      if (nc.isClosed()) return 'closed'
      return reconnecting ? `reconnecting to NATS (${config.servers.join(', ')})` : 'connected'
    },
    get connection(): NatsConnection {
      if (!nc) throw new Error('the replicated log is not started')
      return nc
    },
    async close(deadline = Date.now() + 5_000) {
      if (closed && !nc) return
      closed = true
      if (statsTimer) clearInterval(statsTimer)
      await settledBy(api.flush(), deadline)
      await nc?.drain().catch(() => nc?.close())
      nc = null
      js = null
      jsm = null
    },
  } satisfies DurableLog & Record<string, unknown>
  return api
}
export type StreamLog = ReturnType<typeof createStreamLog>
