import { closeSync, fsyncSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { frameAt, resync } from './frame.ts'

/** Segment files are named by a zero-padded sequence number so that name order is write order. */
export const segmentName = (id: number) => `${String(id).padStart(12, '0')}.log`

export function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .filter((f) => /^\d{12}\.log$/.test(f))
    .map((f) => Number(f.slice(0, 12)))
    .sort((a, b) => a - b)
}

/** A place in the log: the byte offset of a frame boundary in a segment. */
export interface Position {
  segment: number
  offset: number
}

export const comparePositions = (a: Position, b: Position) => a.segment - b.segment || a.offset - b.offset

export interface Damage {
  segment: number
  offset: number
  reason: string
}

export interface SegmentScan {
  /** End of the last good frame: what follows it is a torn tail (never acknowledged, since acks follow a complete write). */
  goodEnd: number
  records: number
  damage: Damage[]
}

/** Walks every frame of a segment at start, so that damage is reported at once rather than when a reader meets it. */
export function scanSegment(dir: string, segment: number): SegmentScan {
  const buf = readFileSync(join(dir, segmentName(segment)))
  const damage: Damage[] = []
  let records = 0
  let off = 0
  let goodEnd = 0
  while (off < buf.length) {
    const f = frameAt(buf, off, buf.length)
    if (f.kind === 'frame') {
      records++
      off = f.end
      goodEnd = off
      continue
    }
    const next = resync(buf, off, buf.length)
    if (next < 0) break
    damage.push({ segment, offset: off, reason: f.kind === 'corrupt' ? f.reason : 'incomplete frame' })
    off = next
  }
  return { goodEnd, records, damage }
}

export function fsyncDir(dir: string) {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
