import { AckPolicy, type Consumer, DeliverPolicy, type JsMsg, type NatsConnection } from 'nats'
import type { Logger } from 'pino'
import type { LogRecord } from '#devices'
import { settledBy } from './deadline.ts'
import type { ReaderHandler, ReaderStatus } from './reader.ts'
import { subjectOf, untilReady } from './stream-log.ts'

export interface StreamReaderOptions {
  /** The reader kind and its partition, e.g. `influxdb@p3`: the handler's checkpoint is saved under it. */
  name: string
  partition: number
  /** The lease's revision when this node took the partition: each owner reads through a consumer of its own. */
  epoch: number
  stream: string
  nc: NatsConnection
  handler: ReaderHandler
  /** Claims the reader's fence with `epoch` before anything is loaded, so a former owner's late commits are refused. */
  claim?: () => Promise<void>
  logger: Logger
  maxRecords: number
  idleMs?: number
  kinds?: readonly LogRecord['kind'][]
  onFailure?(): void
  /** The watchdog's times (tests shorten them). */
  watch?: { everyMs: number; fetchStallMs: number; handleStallMs: number }
}

const FETCH_EXPIRES_MS = 2_000
/** A fetch past its expiry by 10 s is taken for stuck; a handler two minutes on one batch is reported. */
const WATCH = { everyMs: 5_000, fetchStallMs: FETCH_EXPIRES_MS + 10_000, handleStallMs: 120_000 }

/** A durable consumer's name may not hold `.`, `*`, `>` or spaces. */
export const consumerName = (reader: string) => reader.replace(/[^A-Za-z0-9_-]/g, '_')

/**
 * One reader of one partition of the replicated log, run by the node that holds the partition's
 * lease. The handler's own checkpoint (saved with its effects, in the database) is the truth: on
 * taking the partition, the durable consumer is set to start just after it, so a partition that
 * moves from a dead node is read on from where its effects stopped, neither skipping nor doubling.
 * Positions are `{ segment: partition, offset: next stream sequence }`.
 */
export function createStreamReader(o: StreamReaderOptions) {
  const wanted = new Set(o.kinds ?? ['reading', 'quarantine'])
  const prefix = `${consumerName(o.name)}_e`
  // A consumer per owner: a node that lost the lease but has not noticed yet cannot pull (and so hide)
  // records from the new owner's consumer, which is what sharing one durable name would allow.
  const durable = `${prefix}${o.epoch}`
  let running = false
  let draining = false
  let loop: Promise<void> = Promise.resolve()
  let next: number | null = null
  // The first sequence whose effects are not yet durable (a handler may commit less often than it reads).
  let durableNext: number | null = null
  let pending = 0
  let oldestAt: number | null = null
  let error: string | null = null
  let failingSince: number | null = null
  let restarts = 0
  let stalls = 0
  let wake: (() => void) | null = null
  /** Where the loop waits now, and since when: a watchdog looks at it (below). */
  let stage: 'start' | 'fetch' | 'handle' | 'idle' = 'start'
  let stageSince = Date.now()
  let stopFetch: ((e: Error) => void) | null = null
  let watchdog: NodeJS.Timeout | undefined
  const enter = (s: typeof stage) => {
    stage = s
    stageSince = Date.now()
  }

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = null
        resolve()
      }, ms)
      wake = () => {
        clearTimeout(t)
        wake = null
        resolve()
      }
    })

  const fail = async (e: unknown, delay: number) => {
    const msg = (e as Error)?.message ?? String(e)
    if (msg !== error) o.logger.warn({ reader: o.name, err: msg }, 'stream reader failed; retrying with backoff')
    error = msg
    failingSince ??= Date.now()
    restarts++
    o.onFailure?.()
    if (running) await pause(delay)
    return Math.min(delay * 2, 10_000)
  }

  /** The consumer, made anew to start at `from`: whatever a former owner left unacknowledged is not ours to trust. */
  const consumerAt = async (from: number, takeOver: boolean): Promise<Consumer> => {
    const jsm = await o.nc.jetstreamManager({ timeout: 5_000 })
    // Taking the partition, former owners' consumers of this reader go (a dead node leaves its own behind);
    // later, only our own is made again, so a former owner's retry never removes the new owner's.
    const stale: string[] = []
    for await (const c of jsm.consumers.list(o.stream))
      if (c.name.startsWith(prefix) && (takeOver || c.name === durable)) stale.push(c.name)
    for (const name of stale) await jsm.consumers.delete(o.stream, name).catch(() => undefined)
    await jsm.consumers.add(o.stream, {
      durable_name: durable,
      filter_subject: subjectOf(o.stream, o.partition),
      ack_policy: AckPolicy.All,
      ...(from > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from } : { deliver_policy: DeliverPolicy.All }),
      // One owner at a time, and it acknowledges each batch once handled: nothing is redelivered behind its back.
      ack_wait: 3_600 * 1_000_000_000,
      max_ack_pending: -1,
    })
    return o.nc.jetstream().consumers.get(o.stream, durable)
  }

  const fetchBatch = async (consumer: Consumer): Promise<JsMsg[]> => {
    const msgs: JsMsg[] = []
    enter('fetch')
    const it = await consumer.fetch({ max_messages: o.maxRecords, expires: draining ? 1_000 : FETCH_EXPIRES_MS })
    stopFetch = (e) => it.stop(e)
    try {
      for await (const m of it) {
        msgs.push(m)
        if (msgs.length >= o.maxRecords) break
      }
    } finally {
      stopFetch = null
    }
    return msgs
  }

  /**
   * A fetch ends by itself after its expiry (the client's own timer). One that has not, long after,
   * is stopped, and the loop makes its consumer again from its position: CI twice saw a reader stop
   * taking deliveries after a server or node was killed (Debian's nats-server 2.9.10), with its records
   * waiting in the stream. A handler that does not return cannot be stopped safely (its commit may be
   * on its way); it is reported, on /ready and in the log.
   */
  const limits = o.watch ?? WATCH
  const watch = () => {
    const waited = Date.now() - stageSince
    if (stage === 'fetch' && waited > limits.fetchStallMs && stopFetch) {
      o.logger.warn(
        { reader: o.name, waitedMs: waited, next },
        'stream reader: a fetch outlived its expiry; reading again from its position',
      )
      stalls++
      stopFetch(new Error(`consumer fetch stalled for ${waited} ms`))
    } else if (stage === 'handle' && waited > limits.handleStallMs) {
      const msg = `handler has not returned for ${Math.round(waited / 1000)} s`
      if (error === null) o.logger.warn({ reader: o.name, waitedMs: waited, next }, 'stream reader: handler has not returned')
      error = msg
      failingSince ??= stageSince
    }
  }

  const run = async () => {
    let delay = 200
    let consumer: Consumer | null = null
    while (running && consumer === null) {
      try {
        await o.claim?.()
        const saved = await o.handler.load()
        next = saved && saved.segment === o.partition ? saved.offset : 1
        durableNext = next
        consumer = await untilReady('consumer could not be made', Date.now() + 10_000, () => consumerAt(next!, true))
      } catch (e) {
        delay = await fail(e, delay)
      }
    }
    let held: { records: LogRecord[]; end: number; last: JsMsg; fetched: number } | null = null
    // The consumer's delivery sequence of the last message taken. A fetch that expires as messages are on
    // their way leaves them delivered to nobody; the server counts them as sent, and acknowledging a later
    // one would acknowledge them too. A jump in this sequence shows it: the consumer is made again from
    // our own position, so nothing is skipped.
    let delivered = 0
    const readAgain = async () => {
      o.logger.debug({ reader: o.name, after: delivered }, 'stream reader: deliveries went astray; reading again from its position')
      const c = await consumerAt(next!, false)
      delivered = 0
      return c
    }
    while (running && consumer) {
      try {
        if (!held) {
          const msgs = await fetchBatch(consumer)
          // Stopped meanwhile (the lease lost): what was fetched is left unacknowledged for the next owner.
          if (!running) break
          let expect = delivered + 1
          if (msgs.some((m) => m.info.deliverySequence !== expect++)) {
            consumer = await readAgain()
            continue
          }
          if (msgs.length > 0) delivered = msgs[msgs.length - 1]!.info.deliverySequence
          if (msgs.length === 0) {
            // Deliveries that went astray with nothing after them (the last ones before the devices fell
            // quiet) show no jump: the consumer's own count of what it delivered does. Unread, they would
            // wait for ack_wait (an hour), and a later acknowledgement would pass over them.
            if ((await consumer.info()).delivered.consumer_seq > delivered) {
              consumer = await readAgain()
              continue
            }
            pending = 0
            oldestAt = null
            if (draining) break
            continue
          }
          const records: LogRecord[] = []
          for (const m of msgs) {
            if (m.seq < next!) continue
            const r = m.json<LogRecord>()
            if (wanted.has(r.kind)) records.push(r)
          }
          const last = msgs[msgs.length - 1]!
          held = { records, end: last.seq + 1, last, fetched: msgs.length }
          pending = last.info.pending
          oldestAt = pending > 0 ? (oldestAt ?? Date.now()) : null
        }
        // The same batch is tried again until it is handled: per-device order is kept.
        const end = { segment: o.partition, offset: held.end }
        enter('handle')
        // Handed over even when none of its records is this reader's kind, as the local log's reader does: the
        // handler then moves its checkpoint (at its own pace), so what it has passed can be purged.
        const durable = await o.handler.handle({ records: held.records, end })
        enter('idle')
        held.last.ack()
        next = held.end
        // Nothing returned: the whole batch is durable. A position of another partition: nothing is yet.
        if (!durable) durableNext = next
        else if (durable.segment === o.partition) durableNext = durable.offset
        const partial = held.fetched < o.maxRecords && pending === 0
        held = null
        error = null
        failingSince = null
        delay = 200
        // Handing on: caught up with what the stream held at the last fetch is enough. Other nodes go on
        // appending to this partition, so waiting for an empty fetch could last until the deadline.
        if (draining && partial) break
        if (pending === 0 && o.idleMs && !draining) await pause(o.idleMs)
      } catch (e) {
        // Stopped meanwhile (abandon() ends its fetch): not a failure of the reader.
        if (!running) break
        delay = await fail(e, delay)
        // A consumer lost with its server is made again from where this reader is.
        if (!held && /consumer|not found|no responders|timeout|503/i.test((e as Error).message ?? '')) {
          try {
            consumer = await consumerAt(next ?? 1, false)
            delivered = 0
          } catch {}
        }
      }
    }
  }

  return {
    name: o.name,
    partition: o.partition,
    start() {
      running = true
      loop = run()
      watchdog = setInterval(watch, limits.everyMs)
      watchdog.unref?.()
    },
    /** Fetches stopped by the watchdog (above) since start. */
    stalls: () => stalls,
    /** The first stream sequence this reader may still need after a restart; null before it loaded. */
    durable: () => durableNext,
    status(): ReaderStatus {
      return {
        name: o.name,
        position: next === null ? null : { segment: o.partition, offset: next },
        lagBytes: 0,
        lagRecords: pending,
        oldestMs: oldestAt === null ? null : Date.now() - oldestAt,
        error,
        failingSinceMs: failingSince === null ? null : Date.now() - failingSince,
        restarts,
        damage: [],
      }
    },
    /** Reads until caught up or `deadline` (epoch ms), then stops: how a node hands its partitions on before it exits. */
    async close(deadline = Date.now()) {
      // The watchdog keeps watching while the partition is read to its end: a fetch stuck in the hand-over would use up the deadline.
      draining = true
      wake?.()
      let finished = await settledBy(loop, deadline)
      running = false
      wake?.()
      finished ||= await settledBy(loop, Date.now() + 2_500)
      clearInterval(watchdog)
      if (finished && o.handler.close)
        await o.handler.close().catch((e: Error) => o.logger.warn({ reader: o.name, err: e.message }, 'reader close failed'))
    },
    /** Stops at once, without saving held-back state: the partition's lease is lost and another node may own it now. */
    async abandon() {
      clearInterval(watchdog)
      running = false
      wake?.()
      // What a fetch still brings is left unacknowledged for the next owner.
      stopFetch?.(new Error('reader stopped'))
      await settledBy(loop, Date.now() + 2_500)
    },
  }
}
export type StreamReader = ReturnType<typeof createStreamReader>
