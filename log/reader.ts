import type { Logger } from 'pino'
import type { LogRecord } from '#devices'
import { type Batch, createCursor } from './cursor.ts'
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

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
  let wake: () => void = () => {}
  let stopped = new Promise<void>((r) => {
    wake = r
  })
  // Separate from `stopped`: closing wakes a reader waiting for data, not one backing off after a failure.
  let nudge: () => void = () => {}
  const nudged = () =>
    new Promise<void>((r) => {
      nudge = r
    })

  const fail = async (e: unknown, delay: number) => {
    const msg = (e as Error)?.message ?? String(e)
    if (msg !== error) o.logger.warn({ reader: o.name, err: msg }, 'log reader failed; retrying with backoff')
    error = msg
    failingSince ??= Date.now()
    restarts++
    o.onFailure?.()
    await Promise.race([sleep(delay), stopped])
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
          await Promise.race([o.log.waitForData(), stopped, nudged()])
          continue
        }
        const durable = await o.handler.handle(batch)
        pos = batch.end
        o.log.advance(o.name, durable ?? pos)
        error = null
        failingSince = null
        delay = 200
        if (batch.records.length < o.maxRecords && o.idleMs && !draining) await Promise.race([sleep(o.idleMs), stopped])
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
      nudge()
      const left = Math.max(0, deadline - Date.now())
      const timer = setTimeout(() => {
        running = false
        wake()
      }, left)
      if (left === 0) {
        running = false
        wake()
      }
      // An in-flight handler may outlive the deadline; its checkpoint then simply stays behind.
      await Promise.race([loop, sleep(left + 200)])
      running = false
      wake()
      clearTimeout(timer)
      cursor.close()
      stopped = new Promise<void>((r) => {
        wake = r
      })
    },
  }
}
export type Reader = ReturnType<typeof createReader>
