import { closeSync, fdatasync, ftruncateSync, mkdirSync, openSync, statSync, unlinkSync, write } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { LogRecord } from '#devices'
import { encodeFrames, HEADER_BYTES } from './frame.ts'
import { type Damage, fsyncDir, listSegments, type Position, type SegmentScan, scanSegment, segmentName } from './segments.ts'
import { createSpaceGuard, type SpaceGuard } from './space.ts'

export interface LogConfig {
  dir: string
  /** fdatasync before acknowledging. Off: safe against a process crash, not a power cut. */
  fsync: boolean
  segmentBytes: number
  /** How long the first record waits for others before a commit (ms); 0 commits at once. */
  commitDelayMs: number
  /** Ceiling on the log's bytes on disk; past it, appends are refused (back-pressure), never lost. */
  maxBytes: number
  /** Free space always left on the volume, for checkpoints and the database. */
  minFreeBytes: number
}

import type { AppendDone, Refusal } from './port.ts'

export type { AppendDone, Refusal } from './port.ts'

const PARSED_LIMIT = 50_000

interface Segment {
  size: number
  records: number
}

/**
 * The one durable log of accepted records (design D12). Appends gather while a
 * write+fdatasync is in flight and go down together (group commit). A write is
 * acknowledged only when every byte reached the file; anything else truncates
 * back to the last good frame and refuses that batch, so the devices resend it.
 */
export function createLog(config: LogConfig, log: Logger, onRefused?: (code: Refusal['code']) => void) {
  const segments = new Map<number, Segment>()
  // Records already verified and parsed by one reader, by segment and offset, for the next reader at the
  // same place: readers mostly read the same new bytes within milliseconds. Bounded; cleared when full.
  const parsed = new Map<number, Map<number, LogRecord>>()
  let sortedIds: number[] | null = null
  let parsedCount = 0
  const readers = new Map<string, Position>()
  const damage: Damage[] = []
  let current = 0
  let fd = -1
  let totalBytes = 0
  let refusal: Refusal | null = null
  let space: SpaceGuard | null = null
  // When each committed byte range arrived, coarsened to one mark per 100 ms, for reader age.
  const marks: { segment: number; end: number; at: number }[] = []
  let startedAt = 0

  let pending: Buffer[] = []
  let pendingDone: AppendDone[] = []
  let writing = false
  let scheduled: NodeJS.Timeout | null = null
  let closed = true
  let flushWaiters: (() => void)[] = []
  let dataWaiters: (() => void)[] = []
  const path = (id: number) => join(config.dir, segmentName(id))
  // A small volume must still rotate, or the log could never free its own space.
  const rotateAt = Math.max(64 * 1024, Math.min(config.segmentBytes, Math.floor(config.maxBytes / 8)))

  // The new file is opened first: if that fails (no inodes, no file handles) the log keeps its current segment.
  const openNext = () => {
    const next = current + 1
    const nextFd = openSync(path(next), 'wx', 0o600)
    if (fd >= 0) closeSync(fd)
    fd = nextFd
    current = next
    segments.set(current, { size: 0, records: 0 })
    sortedIds = null
    try {
      fsyncDir(config.dir)
    } catch {}
  }

  const wakeReaders = () => {
    const w = dataWaiters
    dataWaiters = []
    for (const f of w) f()
  }

  const refuse = (code: Refusal['code'], detail: string) => {
    if (!refusal) log.error({ code, detail }, 'log refuses appends; readings are not acknowledged and devices will resend them')
    refusal = { code, detail, since: refusal?.since ?? Date.now() }
    // Seal the segment so readers can pass it and it can be deleted, freeing space (never under a write in flight).
    const seg = segments.get(current)
    if (seg && seg.size > 0 && !writing) {
      try {
        openNext()
        // Readers move past the sealed segment now, not at the next append, which is being refused.
        wakeReaders()
      } catch {}
    }
  }

  const lift = () => {
    if (!refusal) return
    log.info({ code: refusal.code, afterMs: Date.now() - refusal.since }, 'log accepts appends again')
    refusal = null
  }

  /** Why the next `bytes` may not be written, or null. */
  const blocked = (bytes: number): { code: Refusal['code']; detail: string } | null => {
    if (totalBytes + bytes > config.maxBytes)
      return { code: 'LOG_CEILING', detail: `the log holds ${totalBytes} bytes; its ceiling is ${config.maxBytes} (SPOOL_MAX_MB)` }
    const free = space?.free() ?? null
    if (free !== null && free - bytes < config.minFreeBytes)
      return { code: 'DISK_LOW', detail: `${free} bytes free on the data volume; ${config.minFreeBytes} are kept free (DATA_MIN_FREE_MB)` }
    return null
  }
  const admit = (bytes: number): boolean => {
    const b = blocked(bytes)
    if (b) refuse(b.code, b.detail)
    return b === null
  }

  const schedule = (): void => {
    if (writing || scheduled || pending.length === 0) return
    if (config.commitDelayMs <= 0) {
      commit()
      return
    }
    scheduled = setTimeout(commit, config.commitDelayMs)
  }

  const finish = (dones: AppendDone[], err: Error | null) => {
    writing = false
    for (const d of dones) d(err)
    settle()
  }

  /** Starts the next commit, or tells flush() waiters that nothing is left. */
  const settle = (): void => {
    if (pending.length) {
      schedule()
      return
    }
    const f = flushWaiters
    flushWaiters = []
    for (const x of f) x()
  }

  const commit = (): void => {
    scheduled = null
    if (writing || pending.length === 0) return
    const payloads = pending
    const dones = pendingDone
    pending = []
    pendingDone = []
    // Admission first: while appends are refused, devices keep resending, and framing what is refused is waste.
    let bytes = 0
    for (const p of payloads) bytes += HEADER_BYTES + p.length
    if (refusal || !admit(bytes)) {
      onRefused?.(refusal!.code)
      const err = new Error(`${refusal!.code}: ${refusal!.detail}`)
      for (const d of dones) d(err)
      settle()
      return
    }
    const buf = encodeFrames(payloads)
    writing = true
    const seg = segments.get(current)!
    const at = seg.size
    const segFd = fd
    const fail = (e: NodeJS.ErrnoException) => {
      // Cut the partial batch off so the file ends at a frame boundary again.
      try {
        ftruncateSync(segFd, at)
      } catch {}
      writing = false
      refuse(e.code === 'ENOSPC' || e.code === 'EDQUOT' ? 'DISK_FULL' : 'DISK_ERROR', `${e.code ?? 'error'}: ${e.message}`)
      space?.refresh()
      onRefused?.(refusal!.code)
      finish(dones, new Error(`${refusal!.code}: ${e.message}`))
    }
    const done = () => {
      seg.size = at + buf.length
      seg.records += payloads.length
      totalBytes += buf.length
      space?.consumed(buf.length)
      const now = Date.now()
      const last = marks[marks.length - 1]
      if (last && last.segment === current && now - last.at < 100) last.end = seg.size
      else marks.push({ segment: current, end: seg.size, at: now })
      if (seg.size >= rotateAt) {
        try {
          openNext()
        } catch (e) {
          // The batch is safe on disk; a new segment is tried again at the next rotation point.
          log.error({ err: (e as Error).message }, 'could not open a new log segment')
        }
      }
      wakeReaders()
      finish(dones, null)
    }
    // Short writes report no error: loop until every byte is down; a zero-byte write means the disk is full.
    const writeFrom = (off: number) => {
      write(segFd, buf, off, buf.length - off, at + off, (err, n) => {
        if (err) return fail(err)
        if (n === 0) return fail(Object.assign(new Error('short write: no space left'), { code: 'ENOSPC' }))
        if (off + n < buf.length) return writeFrom(off + n)
        if (!config.fsync) return done()
        fdatasync(segFd, (e) => (e ? fail(e) : done()))
      })
    }
    writeFrom(0)
  }

  const deleteBehind = () => {
    if (readers.size === 0) return
    // No reader can be past the live segment; a position that claims so is damage, never a licence to delete.
    let min = current
    let minPos: Position = { segment: current, offset: Number.POSITIVE_INFINITY }
    for (const p of readers.values()) {
      // A reader at the very end of a sealed segment is past it, whether or not it has moved on yet.
      const sealedEnd = p.segment < current && segments.has(p.segment) && p.offset >= segments.get(p.segment)!.size
      min = Math.min(min, sealedEnd ? p.segment + 1 : p.segment)
      if (p.segment < minPos.segment || (p.segment === minPos.segment && p.offset < minPos.offset)) minPos = p
    }
    for (const [id, seg] of segments) {
      if (id >= min || id === current) continue
      try {
        unlinkSync(path(id))
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') continue
      }
      segments.delete(id)
      sortedIds = null
      parsedCount -= parsed.get(id)?.size ?? 0
      parsed.delete(id)
      totalBytes -= seg.size
    }
    // Arrival marks every reader has passed are no longer needed for the age of the oldest record.
    while (marks.length && (marks[0]!.segment < minPos.segment || (marks[0]!.segment === minPos.segment && marks[0]!.end <= minPos.offset)))
      marks.shift()
  }

  return {
    dir: config.dir,
    /** Opens the segments, scans them for damage and starts a fresh segment for this run's appends. */
    start() {
      mkdirSync(config.dir, { recursive: true, mode: 0o700 })
      startedAt = Date.now()
      const ids = listSegments(config.dir)
      for (const id of ids) {
        const scan: SegmentScan = scanSegment(config.dir, id)
        let size = statSync(path(id)).size
        const newest = id === ids[ids.length - 1]
        if (scan.goodEnd < size && !newest) {
          // Only the segment being written when the process stopped can be torn: every older one was
          // complete and synced when it was sealed, so bad bytes at its end are damage to acknowledged data.
          damage.push({ segment: id, offset: scan.goodEnd, reason: `damaged final record(s): ${size - scan.goodEnd} bytes` })
        } else if (scan.goodEnd < size) {
          // A torn tail: the batch being written when the process died, never acknowledged.
          damage.push({ segment: id, offset: scan.goodEnd, reason: `torn tail of ${size - scan.goodEnd} bytes` })
          const tfd = openSync(path(id), 'r+')
          try {
            ftruncateSync(tfd, scan.goodEnd)
          } finally {
            closeSync(tfd)
          }
          size = scan.goodEnd
        }
        damage.push(...scan.damage)
        segments.set(id, { size, records: scan.records })
        sortedIds = null
        totalBytes += size
      }
      for (const d of damage) log.warn({ file: segmentName(d.segment), offset: d.offset, reason: d.reason }, 'log damage found at start')
      current = ids.length ? ids[ids.length - 1]! : 0
      openNext()
      space = createSpaceGuard(config.dir, () => {
        if (!refusal) return
        // After a real ENOSPC, wait for room for a whole batch, or every tick would fail one more. At the
        // ceiling, wait until a segment's worth is free (readers passed one and it was deleted): lifting as
        // soon as one byte fits would acknowledge small records between refusals of larger ones.
        const room = refusal.code === 'DISK_FULL' ? 1024 * 1024 : refusal.code === 'LOG_CEILING' ? rotateAt : 0
        if (refusal.code === 'DISK_ERROR' || blocked(room) === null) lift()
      })
      space.start()
      closed = false
    },
    append(record: LogRecord, done: AppendDone) {
      if (closed) return done(new Error('LOG_CLOSED: the service is shutting down'))
      pending.push(Buffer.from(`${record.kind === 'reading' ? 'r' : 'q'}${JSON.stringify(record)}`))
      pendingDone.push(done)
      schedule()
    },
    /** Resolves once everything appended so far is on disk (or refused). */
    flush(): Promise<void> {
      if (!writing && pending.length === 0) return Promise.resolve()
      if (scheduled) {
        clearTimeout(scheduled)
        commit()
        if (!writing && pending.length === 0) return Promise.resolve()
      }
      return new Promise((r) => flushWaiters.push(r))
    },
    get refusal(): Refusal | null {
      return refusal
    },
    /** Damage found at start (torn tails, bad frames). */
    get damage(): readonly Damage[] {
      return damage
    },
    get currentSegment() {
      return current
    },
    /** Segment ids in order; the same array until a segment is added or deleted (readers ask at every wake). */
    segmentIds(): readonly number[] {
      sortedIds ??= [...segments.keys()].sort((a, b) => a - b)
      return sortedIds
    },
    hasSegment: (id: number) => segments.has(id),
    /** A record parsed earlier at this place, if still remembered. */
    parsedAt: (segment: number, offset: number): LogRecord | undefined => parsed.get(segment)?.get(offset),
    rememberParsed(segment: number, offset: number, record: LogRecord) {
      if (parsedCount >= PARSED_LIMIT) {
        parsed.clear()
        parsedCount = 0
      }
      let m = parsed.get(segment)
      if (!m) {
        m = new Map()
        parsed.set(segment, m)
      }
      m.set(offset, record)
      parsedCount++
    },
    segmentPath: path,
    /** Bytes of a segment that are on disk and synced: what readers may read. */
    committedEnd: (segment: number) => segments.get(segment)?.size ?? 0,
    waitForData: () => new Promise<void>((r) => dataWaiters.push(r)),
    /** Records a reader's durable position; segments every reader has passed are deleted. */
    advance(reader: string, p: Position) {
      readers.set(reader, p)
      deleteBehind()
    },
    /** Declares a reader before it has loaded its checkpoint: until it reports, nothing may be deleted. */
    hold(reader: string) {
      if (!readers.has(reader)) readers.set(reader, { segment: 0, offset: 0 })
    },
    forget(reader: string) {
      readers.delete(reader)
    },
    /** Bytes, whole segments' records and the age of the oldest data after `p`. */
    lag(p: Position) {
      let bytes = 0
      for (const [id, seg] of segments) {
        if (id > p.segment) bytes += seg.size
        else if (id === p.segment) bytes += Math.max(0, seg.size - p.offset)
      }
      let oldestMs: number | null = null
      if (bytes > 0) {
        const m = marks.find((x) => x.segment > p.segment || (x.segment === p.segment && x.end > p.offset))
        oldestMs = Date.now() - (m?.at ?? startedAt)
      }
      return { bytes, oldestMs }
    },
    recordsIn: (segment: number) => segments.get(segment)?.records ?? 0,
    stats() {
      return { bytes: totalBytes, segments: segments.size, free: space?.free() ?? null }
    },
    async close(_deadline?: number) {
      if (closed) return
      if (scheduled) {
        clearTimeout(scheduled)
        commit()
      }
      await this.flush()
      closed = true
      space?.close()
      if (fd >= 0) closeSync(fd)
      fd = -1
      wakeReaders()
    },
  }
}
export type Log = ReturnType<typeof createLog>
