import { closeSync, openSync, readSync } from 'node:fs'
import type { LogRecord } from '#devices'
import { frameAt, KIND_BYTES, resync } from './frame.ts'
import type { Log } from './log.ts'
import type { Damage, Position } from './segments.ts'

export interface Batch {
  records: LogRecord[]
  /** Where the next read starts: just after the last record of this batch (or past skipped damage). */
  end: Position
}

const CHUNK_BYTES = 4 * 1024 * 1024

/**
 * Reads records in order from a position, for one reader. Damage (a bad frame, a
 * record that does not parse, a checkpoint beyond the data) is reported once and
 * stepped over: the reader resumes at the next good record rather than stopping.
 */
/** `kinds`: the record kinds this reader handles; others are stepped over unparsed (their checksum is still checked). */
export function createCursor(log: Log, onDamage: (d: Damage) => void, kinds: readonly LogRecord['kind'][] = ['reading', 'quarantine']) {
  const wanted = new Set<number>(kinds.map((k) => KIND_BYTES[k]))
  const known = new Set<number>(Object.values(KIND_BYTES))
  let open: { segment: number; fd: number } | null = null
  const seen = new Set<string>()
  const report = (d: Damage) => {
    const key = `${d.segment}:${d.offset}:${d.reason}`
    if (seen.has(key)) return
    seen.add(key)
    onDamage(d)
  }
  const fdFor = (segment: number) => {
    if (open?.segment === segment) return open.fd
    if (open) closeSync(open.fd)
    open = { segment, fd: openSync(log.segmentPath(segment), 'r') }
    return open.fd
  }
  const readRange = (segment: number, from: number, to: number) => {
    const buf = Buffer.allocUnsafe(to - from)
    let n = 0
    while (n < buf.length) {
      const r = readSync(fdFor(segment), buf, n, buf.length - n, from + n)
      if (r === 0) break
      n += r
    }
    return buf.subarray(0, n)
  }

  /** Moves a position to where data can be read, reporting a position that points past the data. */
  const normalise = (p: Position): Position | null => {
    const ids = log.segmentIds()
    if (ids.length === 0) return null
    // The common case, a reader within a segment that exists, costs two lookups.
    if (log.hasSegment(p.segment) && p.offset <= log.committedEnd(p.segment)) return p
    if (p.segment > log.currentSegment) {
      report({ segment: p.segment, offset: p.offset, reason: 'checkpoint beyond the data: no such segment; reading from the oldest' })
      return { segment: ids[0]!, offset: 0 }
    }
    if (p.segment < ids[0]!) return { segment: ids[0]!, offset: 0 }
    if (!ids.includes(p.segment)) return { segment: ids.find((id) => id > p.segment)!, offset: 0 }
    const end = log.committedEnd(p.segment)
    if (p.offset > end) {
      report({ segment: p.segment, offset: p.offset, reason: `checkpoint beyond the data: segment holds ${end} bytes` })
      // Past a sealed segment, the next one holds what came after; in the live one, replaying it is safe (writes are idempotent).
      return p.segment < log.currentSegment ? { segment: ids.find((id) => id > p.segment)!, offset: 0 } : { segment: p.segment, offset: 0 }
    }
    return p
  }

  return {
    /** Where reading from `p` really starts: a checkpoint past the data is reported and moved back onto it. */
    position: (p: Position): Position => normalise(p) ?? p,
    /** Up to `max` records after `from`; null when there is nothing new. */
    read(from: Position, max: number): Batch | null {
      let p = normalise(from)
      for (;;) {
        if (!p) return null
        const end = log.committedEnd(p.segment)
        if (p.offset < end) break
        if (p.segment >= log.currentSegment) {
          if (open && open.segment !== p.segment) {
            closeSync(open.fd)
            open = null
          }
          return from.segment === p.segment && from.offset === p.offset ? null : { records: [], end: p }
        }
        p = normalise({ segment: p.segment + 1, offset: 0 })
      }
      const segment = p.segment
      // A segment left behind is closed at once: an open handle would keep a deleted file's space.
      if (open && open.segment !== segment) {
        closeSync(open.fd)
        open = null
      }
      const end = log.committedEnd(segment)
      let buf = readRange(segment, p.offset, Math.min(end, p.offset + CHUNK_BYTES))
      let base = p.offset
      const records: LogRecord[] = []
      let off = 0
      while (records.length < max && off < buf.length) {
        const at = base + off
        const seen = log.parsedAt(segment, at)
        const f = frameAt(buf, off, buf.length, seen === undefined)
        if (f.kind === 'frame') {
          const kind = buf[f.start]!
          if (seen !== undefined) {
            if (wanted.has(kind)) records.push(seen)
          } else if (wanted.has(kind)) {
            try {
              const record = JSON.parse(buf.toString('utf8', f.start + 1, f.end)) as LogRecord
              log.rememberParsed(segment, at, record)
              records.push(record)
            } catch {
              report({ segment, offset: at, reason: 'record is not JSON' })
            }
          } else if (!known.has(kind)) report({ segment, offset: at, reason: `unknown record kind 0x${kind.toString(16)}` })
          off = f.end
          continue
        }
        if (f.kind === 'incomplete' && base + buf.length < end) break // the frame continues in the next chunk
        report({ segment, offset: base + off, reason: f.kind === 'corrupt' ? f.reason : 'frame runs past the end of the segment' })
        // Rare: look for the next good frame in the rest of the segment, read whole.
        if (base + buf.length < end) {
          buf = readRange(segment, base + off, end)
          base += off
          off = 0
        }
        const next = resync(buf, off, buf.length)
        off = next < 0 ? buf.length : next
      }
      return { records, end: { segment, offset: base + off } }
    },
    close() {
      if (open) closeSync(open.fd)
      open = null
    },
  }
}
export type Cursor = ReturnType<typeof createCursor>
