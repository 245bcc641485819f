import type { Logger } from 'pino'
import type { LogRecord } from '#devices'
import { type Batch, createCursor } from './cursor.ts'
import { settledBy } from './deadline.ts'
import type { Log } from './log.ts'
import type { Damage, Position } from './segments.ts'

/** What a reader of the log does with what it reads; the runner owns order, retries and lag. */
export interface ReaderHandler {
  /** The reader's durable checkpoint; null for "from the oldest record". */
  load(): Promise<Position | null>
  /**
   * Handles a batch and records its checkpoint, in the same transaction as its
   * effects where it can. Throwing means "try this batch again later". A handler
   * that saves its checkpoint less often returns the position that is durable, so
   * that no segment it would replay from is deleted.
   */
  handle(batch: Batch): Promise<Position | undefined>
  /** Saves what the handler holds back (state not yet committed), once reading has stopped. */
  close?(): Promise<void>
}

export interface ReaderOptions {
  name: string
  log: Log
  handler: ReaderHandler
  logger: Logger
  maxRecords: number
  /** After a part-full batch, wait this long so the next one carries more (0: at once). */
  idleMs?: number
  /** The record kinds this reader handles; the others are stepped over without parsing. */
  kinds?: readonly LogRecord['kind'][]
  onDamage?(d: Damage): void
  onFailure?(): void
}

export interface ReaderStatus {
  name: string
  position: Position | null
  lagBytes: number
  lagRecords: number
  oldestMs: number | null
  /** The last failure while it lasts; null while the reader makes progress. */
  error: string | null
  failingSinceMs: number | null
  restarts: number
  /** The latest damaged records this reader skipped, with when it met them. */
  damage: (Damage & { at: number })[]
}

/**
 * Runs one reader of the log: reads after its checkpoint, hands batches to the
 * handler, and on any failure backs off (200 ms doubling to 10 s) and tries the
 * same batch again. It never stops for good and never waits on another reader.
 */
export function createReader(o: ReaderOptions) {
  const damage: (Damage & { at: number })[] = []
  const cursor = createCursor(
    o.log,
    (d) => {
      damage.push({ ...d, at: Date.now() })
      if (damage.length > 50) damage.shift()
      o.logger.error({ reader: o.name, file: d.segment, offset: d.offset, reason: d.reason }, 'log damage: skipped to the next good record')
      o.onDamage?.(d)
    },
    o.kinds,
  )
  let pos: Position | null = null
  o.log.hold(o.name)
  let running = false
  let draining = false
  let loop: Promise<void> = Promise.resolve()
  let error: string | null = null
  let failingSince: number | null = null
  let restarts = 0
  // Each wait is its own promise, ended by its event or by close: racing against one long-lived
  // promise would leave a reaction on it per wait, and a reader waits hundreds of times a second.
  // Closing first wakes only the readers waiting for data (to drain), then stopping wakes every wait.
  const waiters = new Map<() => void, 'data' | 'pause'>()
  const wait = (kind: 'data' | 'pause', arm: (done: () => void) => (() => void) | undefined) =>
    new Promise<void>((resolve) => {
      let disarm: (() => void) | undefined
      const done = () => {
        if (!waiters.delete(done)) return
        disarm?.()
        resolve()
      }
      waiters.set(done, kind)
      disarm = arm(done)
    })
  const pause = (ms: number) =>
    wait('pause', (done) => {
      const t = setTimeout(done, ms)
      return () => clearTimeout(t)
    })
  const dataOrClose = () =>
    wait('data', (done) => {
      void o.log.waitForData().then(done)
      return undefined
    })
  const wakeAll = (only?: 'data') => {
    for (const [done, kind] of [...waiters]) if (!only || kind === only) done()
  }

  const fail = async (e: unknown, delay: number) => {
    const msg = (e as Error)?.message ?? String(e)
    if (msg !== error) o.logger.warn({ reader: o.name, err: msg }, 'log reader failed; retrying with backoff')
    error = msg
    failingSince ??= Date.now()
    restarts++
    o.onFailure?.()
    if (running) await pause(delay)
    return Math.min(delay * 2, 10_000)
  }

  const run = async () => {
    let delay = 200
    while (running && pos === null) {
      try {
        // A checkpoint past the data must not count as "past every segment", or unread segments would be deleted.
        pos = cursor.position((await o.handler.load()) ?? { segment: 0, offset: 0 })
        o.log.advance(o.name, pos)
      } catch (e) {
        delay = await fail(e, delay)
      }
    }
    while (running && pos) {
      try {
        const batch = cursor.read(pos, o.maxRecords)
        if (!batch) {
          if (draining) break
          await dataOrClose()
          continue
        }
        const durable = await o.handler.handle(batch)
        pos = batch.end
        o.log.advance(o.name, durable ?? pos)
        error = null
        failingSince = null
        delay = 200
        if (batch.records.length < o.maxRecords && o.idleMs && !draining) await pause(o.idleMs)
      } catch (e) {
        delay = await fail(e, delay)
      }
    }
  }

  return {
    name: o.name,
    start() {
      running = true
      loop = run()
    },
    status(): ReaderStatus {
      const lag = pos ? o.log.lag(pos) : { bytes: 0, oldestMs: null }
      let lagRecords = 0
      if (pos) {
        for (const id of o.log.segmentIds()) {
          const n = o.log.recordsIn(id)
          if (id > pos.segment) lagRecords += n
          else if (id === pos.segment && n > 0) {
            // Within the segment being read, records are estimated from bytes.
            const size = o.log.committedEnd(id)
            lagRecords += Math.round((n * Math.max(0, size - pos.offset)) / Math.max(1, size))
          }
        }
      }
      return {
        name: o.name,
        position: pos,
        lagBytes: lag.bytes,
        lagRecords,
        oldestMs: lag.oldestMs,
        error,
        failingSinceMs: failingSince === null ? null : Date.now() - failingSince,
        restarts,
        damage: [...damage],
      }
    },
    /** Keeps reading until caught up or `deadline` (epoch ms), then stops; its checkpoint says where the next start resumes. */
    async close(deadline = Date.now()) {
      draining = true
      wakeAll('data')
      const stop = () => {
        running = false
        wakeAll()
      }
      const left = Math.max(0, deadline - Date.now())
      if (left === 0) stop()
      const timer = setTimeout(stop, left)
      // An in-flight handler may outlive the deadline; its checkpoint then simply stays behind.
      const finished = await settledBy(loop, Date.now() + left + 200)
      stop()
      clearTimeout(timer)
      // Only a handler that is not mid-batch may save what it holds back (the alert engine's pending state).
      if (finished && o.handler.close)
        await o.handler.close().catch((e: Error) => o.logger.warn({ reader: o.name, err: e.message }, 'reader close failed'))
      cursor.close()
    },
  }
}
export type Reader = ReturnType<typeof createReader>
