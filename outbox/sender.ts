import type { Logger } from 'pino'
import type { Delivery, OutboxChannel, SendOutcome } from '#devices'
import { settledBy } from '../log/deadline.ts'
import type { AttemptRecord, OutboxStore } from '../store/outbox-store.ts'
import { FencedError } from '../store/reader-fences.ts'
import { type BackoffPolicy, decide } from './backoff.ts'
import { createBatchedRecords } from './batched-records.ts'
import { createTargetQueues } from './target-queues.ts'

/** Never look again sooner than this (a head due "now" that a free slot could not take yet). */
const MIN_SLEEP_MS = 20
/**
 * How often the index is read again whole. New deliveries are read by id as the producer makes them;
 * on PostgreSQL two transactions can commit their ids out of order, and this picks up the one passed over.
 */
const RESYNC_MS = 60_000

export interface SenderOptions {
  channel: OutboxChannel
  store: OutboxStore
  send(d: Delivery, signal: AbortSignal): Promise<SendOutcome>
  backoff: BackoffPolicy
  /** Deliveries in flight at once, each to a different target. */
  concurrency: number
  /** The longest sleep between two looks (a wake() cuts it short). */
  pollMs: number
  log: Logger
  onOutcome?: (d: Delivery, state: 'delivered' | 'pending' | 'dead') => void
  random?: () => number
  resyncMs?: number
  /**
   * SQLite: one writer at a time, so ids become visible in the order they were given, and a head read
   * in id order is the target's oldest. Otherwise (PostgreSQL) each head is checked in the store first.
   */
  idsCommitInOrder?: boolean
  /**
   * Cluster mode: the fence of the node running the outbox (its lease's epoch). Each attempt is then
   * made and stored while the fence is held (OutboxStore.attemptFenced), so that a node that lost the
   * outbox while paused sends nothing the next holder also sends.
   */
  fence?: { reader: string; epoch: number } | undefined
}

/**
 * One sender loop per channel (design D13). Each target's deliveries go one at a time in the
 * order they were made (the next waits for the one before to be delivered or dead); up to
 * `concurrency` targets are served at once, so a slow or dead target holds one slot and never
 * the others. Every outcome is stored before the target's next delivery is looked at.
 *
 * Which delivery is next is answered from an index in memory (ids, targets and due times of the
 * pending deliveries), read from the store at start and extended by id when the producer makes
 * more: asking the store for every target's oldest pending delivery after each attempt cost a scan
 * of all pending rows per delivery, on the event loop ingest answers devices from.
 */
export function createSender(o: SenderOptions) {
  const queues = createTargetQueues()
  const records = createBatchedRecords(o.store)
  const inFlight = new Map<string, Promise<void>>()
  const abort = new AbortController()
  const resyncMs = o.resyncMs ?? RESYNC_MS
  let timer: NodeJS.Timeout | null = null
  let running = false
  let again = false
  let stopped = true
  /** What the next pass must read first: nothing, the deliveries after the last id seen, or the whole index. */
  let read: 'none' | 'new' | 'all' = 'all'
  let lastResync = 0

  const schedule = (ms: number) => {
    if (stopped) return
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => void pass(), Math.max(0, ms))
    timer.unref?.()
  }

  const run = async (d: Delivery): Promise<AttemptRecord | null> => {
    const outcome = await o.send(d, abort.signal)
    // Stopped mid-attempt: the delivery stays as it was and is tried again on the next start.
    if (abort.signal.aborted) return null
    return decide(outcome, d, new Date(), o.backoff, o.random)
  }

  const attempt = async (d: Delivery) => {
    try {
      let r: AttemptRecord | null
      if (o.fence) r = await o.store.attemptFenced(o.fence, d.id, () => run(d))
      else {
        r = await run(d)
        if (r) await records.record(d.id, r)
      }
      if (!r) return
      if (r.state === 'pending') queues.reschedule(d.target, d.id, r.nextAttemptMs)
      else queues.done(d.target, d.id)
      o.onOutcome?.(d, r.state)
      if (r.state === 'dead') o.log.warn({ delivery: d.id, target: d.target, error: r.error }, 'delivery dead-lettered')
    } catch (e) {
      if (e instanceof FencedError) {
        // Another node runs the outbox now (this one was paused or cut off past its lease): send nothing more.
        if (!stopped) o.log.warn({ channel: o.channel, err: e.message }, 'the outbox runs on another node now; this one stops sending')
        stopped = true
        if (timer) clearTimeout(timer)
        return
      }
      // The store failed: the delivery is still pending and is looked at again after a pause.
      queues.reschedule(d.target, d.id, Date.now() + o.pollMs)
      o.log.warn({ delivery: d.id, err: (e as Error).message }, 'delivery attempt not recorded')
    } finally {
      inFlight.delete(d.target)
      if (!stopped) wake()
    }
  }

  const refresh = async () => {
    const whole = read === 'all' || Date.now() - lastResync >= resyncMs
    if (!whole && read === 'none') return
    read = 'none'
    if (whole) {
      lastResync = Date.now()
      queues.replaceAll(await o.store.pending(o.channel, 0))
    } else queues.add(await o.store.pending(o.channel, queues.lastId()))
  }

  async function pass(): Promise<void> {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = true
    try {
      do {
        again = false
        await refresh()
        const free = o.concurrency - inFlight.size
        // Nothing to do now; a wake() that came during an await above (again) still gets its look.
        if (free <= 0) continue
        const ids = queues.due(Date.now(), free, inFlight)
        if (ids.length === 0) continue
        // A head may have changed under the index (replayed, abandoned): the store's row decides.
        const rows = await o.store.getMany(ids)
        const oldest = o.idsCommitInOrder
          ? null
          : await o.store.oldest(
              o.channel,
              rows.map((d) => d.target),
            )
        for (const d of rows) {
          if (stopped || inFlight.has(d.target) || inFlight.size >= o.concurrency) continue
          if (d.state !== 'pending') {
            queues.done(d.target, d.id)
            again = true
            continue
          }
          // An older delivery of the target committed after the index read past it (PostgreSQL): read it all again.
          // Not at once: the pause lets that transaction's commit arrive, and keeps the loop from spinning.
          if (oldest && oldest.get(d.target) !== d.id) {
            read = 'all'
            continue
          }
          // The index was read while an attempt of it was being recorded: the row knows its real time.
          const dueMs = d.nextAttemptAt === null ? 0 : Date.parse(d.nextAttemptAt)
          if (dueMs > Date.now()) {
            queues.reschedule(d.target, d.id, dueMs)
            continue
          }
          inFlight.set(d.target, attempt(d))
        }
      } while (again && !stopped)
      // Every slot taken: the next attempt to end wakes the loop. Else sleep until the earliest head of a free target is due.
      const due = inFlight.size >= o.concurrency ? null : queues.nextDue(inFlight)
      schedule(due === null ? o.pollMs : Math.min(o.pollMs, Math.max(MIN_SLEEP_MS, due - Date.now())))
    } catch (e) {
      o.log.warn({ channel: o.channel, err: (e as Error).message }, 'outbox sender pass failed; trying again')
      read = 'all'
      schedule(o.pollMs)
    } finally {
      running = false
    }
  }

  function wake() {
    if (stopped) return
    if (running) again = true
    else schedule(0)
  }

  return {
    start() {
      stopped = false
      read = 'all'
      schedule(0)
    },
    /** The producer made deliveries: read those after the last id seen. */
    wake() {
      if (read === 'none') read = 'new'
      wake()
    },
    /** Deliveries changed in place (replayed, abandoned): read the whole index again. */
    resync() {
      read = 'all'
      wake()
    },
    inFlight: () => inFlight.size,
    /** Stops taking deliveries; attempts still running get until `deadline`, then are aborted (they stay pending). */
    async close(deadline: number) {
      stopped = true
      if (timer) clearTimeout(timer)
      const all = Promise.allSettled([...inFlight.values()])
      await settledBy(all, deadline)
      abort.abort()
      await all
    },
  }
}
export type Sender = ReturnType<typeof createSender>
