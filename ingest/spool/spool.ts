import { closeSync, fdatasync, mkdirSync, openSync, statSync, unlinkSync, write } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { fsyncDir, listSegments, type Position, readCheckpoint, repairTail, segmentName, writeCheckpoint } from './segments.ts'

export interface SpoolConfig {
  dir: string
  /** fdatasync before acknowledging (durable accept). Off: the write reaches the OS only, safe against a process crash, not a power cut. */
  fsync: boolean
  /** A segment is closed and a new one opened past this size. */
  segmentBytes: number
  /**
   * How long the first record waits for others before a commit (ms). A few ms turn
   * one sync per reading into one per batch at moderate load; 0 commits at once.
   */
  commitDelayMs: number
}

export type AppendDone = (err: Error | null) => void

export interface Spool {
  /** Appends one line protocol record; `done` runs once it is on disk. */
  append(line: string, done: AppendDone): void
  /** Resolves once everything appended so far is on disk. */
  flush(): Promise<void>
  /** The file of a segment, for the drainer to read. */
  segmentPath(segment: number): string
  /** Bytes of `segment` on disk and synced (what the drainer may read); 0 for a deleted segment. */
  committedEnd(segment: number): number
  readonly currentSegment: number
  readonly checkpoint: Position
  /** Records the drainer's confirmed position and deletes segments wholly behind it. */
  confirm(p: Position): void
  /** Resolves when new data is committed. */
  waitForData(): Promise<void>
  stats(): { bytes: number; segments: number; oldestMs: number | null }
  close(): Promise<void>
}

/**
 * Append-only segment files with group commit: while one write+fdatasync is in
 * flight, new records gather in memory and go down together in the next one, so
 * the cost of a sync is shared by every device that published meanwhile.
 */
export function openSpool(config: SpoolConfig, log: Logger): Spool {
  mkdirSync(config.dir, { recursive: true, mode: 0o700 })
  const existing = listSegments(config.dir)
  const sizes = new Map<number, number>()
  for (const id of existing) sizes.set(id, statSync(join(config.dir, segmentName(id))).size)
  let checkpoint = readCheckpoint(config.dir)
  // A lost or stale checkpoint that points before the oldest segment means that segment is next.
  if (existing.length && checkpoint.segment < existing[0]!) checkpoint = { segment: existing[0]!, offset: 0 }

  let current = existing.length ? existing[existing.length - 1]! : Math.max(1, checkpoint.segment)
  const path = (id: number) => join(config.dir, segmentName(id))
  if (existing.length) sizes.set(current, repairTail(path(current)))
  let fd = openSync(path(current), 'a')
  if (!sizes.has(current)) {
    sizes.set(current, 0)
    fsyncDir(config.dir)
  }
  // When each committed byte range arrived, for the "oldest unconfirmed reading" age.
  const marks: { segment: number; end: number; at: number }[] = []
  const startedAt = Date.now()

  let savedAt = 0
  let pending: string[] = []
  let pendingDone: AppendDone[] = []
  let writing = false
  let scheduled: NodeJS.Timeout | null = null
  let closed = false
  let flushWaiters: (() => void)[] = []
  let dataWaiters: (() => void)[] = []

  const rotate = () => {
    closeSync(fd)
    current++
    fd = openSync(path(current), 'a')
    sizes.set(current, 0)
    fsyncDir(config.dir)
  }

  const schedule = () => {
    if (writing || scheduled || pending.length === 0) return
    if (config.commitDelayMs <= 0) return commit()
    scheduled = setTimeout(commit, config.commitDelayMs)
  }

  const commit = () => {
    scheduled = null
    if (writing || pending.length === 0) return
    writing = true
    const lines = pending
    const dones = pendingDone
    pending = []
    pendingDone = []
    const buf = Buffer.from(`${lines.join('\n')}\n`)
    const finish = (err: Error | null) => {
      writing = false
      if (err) {
        log.error({ err: err.message }, 'spool write failed; readings are not acknowledged')
      } else {
        const end = sizes.get(current)! + buf.length
        sizes.set(current, end)
        marks.push({ segment: current, end, at: Date.now() })
        if (end >= config.segmentBytes) rotate()
        const w = dataWaiters
        dataWaiters = []
        for (const f of w) f()
      }
      for (const d of dones) d(err)
      if (pending.length) schedule()
      else {
        const f = flushWaiters
        flushWaiters = []
        for (const x of f) x()
      }
    }
    write(fd, buf, 0, buf.length, null, (err) => {
      if (err || !config.fsync) return finish(err)
      fdatasync(fd, (e) => finish(e))
    })
  }

  return {
    append(line, done) {
      if (closed) return done(new Error('spool closed'))
      pending.push(line)
      pendingDone.push(done)
      schedule()
    },
    flush() {
      if (!writing && pending.length === 0) return Promise.resolve()
      if (scheduled) {
        clearTimeout(scheduled)
        commit()
      }
      return new Promise((r) => flushWaiters.push(r))
    },
    segmentPath: path,
    committedEnd: (segment) => sizes.get(segment) ?? 0,
    get currentSegment() {
      return current
    },
    get checkpoint() {
      return checkpoint
    },
    confirm(p) {
      checkpoint = p
      // Persisted at most once a second (and on close and segment deletion): a stale checkpoint only means a replay.
      let deleting = false
      for (const id of sizes.keys()) if (id < p.segment) deleting = true
      if (deleting || Date.now() - savedAt >= 1_000) {
        writeCheckpoint(config.dir, p)
        savedAt = Date.now()
      }
      for (const id of [...sizes.keys()]) {
        if (id < p.segment) {
          unlinkSync(path(id))
          sizes.delete(id)
        }
      }
      while (marks.length && (marks[0]!.segment < p.segment || (marks[0]!.segment === p.segment && marks[0]!.end <= p.offset)))
        marks.shift()
    },
    waitForData: () => new Promise((r) => dataWaiters.push(r)),
    stats() {
      let bytes = 0
      for (const [id, size] of sizes) {
        if (id > checkpoint.segment) bytes += size
        else if (id === checkpoint.segment) bytes += size - checkpoint.offset
      }
      // After a restart, unconfirmed data predates this process; its age is at least our uptime.
      const oldestMs = bytes === 0 ? null : Date.now() - (marks[0]?.at ?? startedAt)
      return { bytes, segments: sizes.size, oldestMs }
    },
    async close() {
      if (scheduled) {
        clearTimeout(scheduled)
        commit()
      }
      await this.flush()
      closed = true
      closeSync(fd)
      writeCheckpoint(config.dir, checkpoint)
      const w = dataWaiters
      dataWaiters = []
      for (const f of w) f()
    },
  }
}
