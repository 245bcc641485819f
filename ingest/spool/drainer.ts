import { closeSync, openSync, readSync } from 'node:fs'
import type { Logger } from 'pino'
import type { InfluxClient } from '../influx-client.ts'
import type { Spool } from './spool.ts'

export interface DrainerDeps {
  spool: Spool
  influx: InfluxClient
  log: Logger
  maxBatchLines: number
  /**
   * After a batch smaller than `maxBatchLines`, wait this long before the next, so
   * that at moderate load one request carries many readings (each request costs
   * far more than a line). Under heavy load batches fill up and go back to back.
   */
  flushIntervalMs: number
  /** Called with a line InfluxDB refused on its own, and the reason; it goes to quarantine. */
  onRejected(line: string, reason: string): void
  onWritten(lines: number): void
  /** Recreates the database after a 404 (an InfluxDB 1.x server wiped or replaced). */
  onMissingDatabase?(): Promise<void>
}

export interface Drainer {
  start(): void
  /** Stops after the current attempt; with a deadline, keeps draining until the spool is empty or the deadline passes. */
  stop(deadline?: number): Promise<void>
  readonly healthy: boolean
  readonly lastError: string | null
}

const READ_BYTES = 4 * 1024 * 1024
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Reads the spool in order and writes it to InfluxDB. The checkpoint moves only
 * after InfluxDB confirms; failures are retried with backoff for as long as it takes.
 */
export function createDrainer(deps: DrainerDeps): Drainer {
  const { spool, log } = deps
  let running = false
  let stopAt: number | null = null
  let loop: Promise<void> | null = null
  let healthy = true
  let lastError: string | null = null
  let readFd: { segment: number; fd: number } | null = null
  let wake: () => void = () => {}
  let stopSignal = new Promise<void>((r) => {
    wake = r
  })

  const fdFor = (segment: number) => {
    if (readFd?.segment === segment) return readFd.fd
    if (readFd) closeSync(readFd.fd)
    readFd = { segment, fd: openSync(spool.segmentPath(segment), 'r') }
    return readFd.fd
  }

  /** Next batch of whole lines after the checkpoint, moving to the next segment when one is used up. */
  const readBatch = (): { lines: string[]; end: { segment: number; offset: number } } | null => {
    let { segment, offset } = spool.checkpoint
    for (;;) {
      const end = spool.committedEnd(segment)
      if (offset < end) break
      if (segment >= spool.currentSegment) return null
      segment++
      offset = 0
      spool.confirm({ segment, offset }) // the previous segment is wholly confirmed: delete it
    }
    const len = Math.min(READ_BYTES, spool.committedEnd(segment) - offset)
    const buf = Buffer.allocUnsafe(len)
    const n = readSync(fdFor(segment), buf, 0, len, offset)
    // Up to maxBatchLines whole lines: stop at that many newlines, or the last one read.
    let end = -1
    for (let i = 0, count = 0; count < deps.maxBatchLines; count++) {
      const nl = buf.indexOf(0x0a, i)
      if (nl < 0 || nl >= n) break
      end = nl
      i = nl + 1
    }
    if (end < 0) return null
    return { lines: buf.toString('utf8', 0, end).split('\n'), end: { segment, offset: offset + end + 1 } }
  }

  /** Writes lines until InfluxDB takes them; bad batches are halved until the bad line stands alone. */
  const writeAll = async (lines: string[]): Promise<boolean> => {
    let delay = 200
    for (;;) {
      const r = await deps.influx.write(lines)
      if (r.kind === 'ok') {
        healthy = true
        lastError = null
        deps.onWritten(lines.length)
        return true
      }
      if (r.kind === 'bad-data') {
        healthy = true
        if (lines.length === 1) {
          deps.onRejected(lines[0]!, r.reason)
          return true
        }
        const mid = lines.length >> 1
        return (await writeAll(lines.slice(0, mid))) && (await writeAll(lines.slice(mid)))
      }
      healthy = false
      if (lastError !== r.reason) log.warn({ reason: r.reason }, 'InfluxDB write failed; readings stay in the spool and are retried')
      lastError = r.reason
      if (r.reason.startsWith('HTTP 404') && deps.onMissingDatabase) await deps.onMissingDatabase().catch(() => {})
      if (!running || (stopAt !== null && Date.now() + delay > stopAt)) return false
      await Promise.race([sleep(delay), stopSignal])
      if (!running) return false
      delay = Math.min(delay * 2, 10_000)
    }
  }

  const run = async () => {
    while (running) {
      const batch = readBatch()
      if (!batch) {
        if (stopAt !== null) break // drained for shutdown
        await Promise.race([spool.waitForData(), stopSignal])
        continue
      }
      if (!(await writeAll(batch.lines))) break
      spool.confirm(batch.end)
      if (batch.lines.length < deps.maxBatchLines && stopAt === null) await Promise.race([sleep(deps.flushIntervalMs), stopSignal])
    }
  }

  return {
    get healthy() {
      return healthy
    },
    get lastError() {
      return lastError
    },
    start() {
      running = true
      stopAt = null
      stopSignal = new Promise<void>((r) => {
        wake = r
      })
      loop = run().catch((e: Error) => log.error({ err: e.message }, 'drainer stopped on an error'))
    },
    async stop(deadline = Date.now()) {
      stopAt = deadline
      if (deadline <= Date.now()) running = false
      wake()
      const left = Math.max(0, deadline - Date.now())
      const timer = setTimeout(() => {
        running = false
      }, left)
      // An in-flight request may outlive the deadline; the spool keeps its lines either way.
      await Promise.race([loop, sleep(left + 100)])
      running = false
      clearTimeout(timer)
      if (readFd) {
        closeSync(readFd.fd)
        readFd = null
      }
    },
  }
}
