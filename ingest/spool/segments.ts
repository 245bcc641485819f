import { closeSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Segment files are named by a zero-padded sequence number so that name order is write order. */
export const segmentName = (id: number) => `${String(id).padStart(12, '0')}.seg`

export function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .filter((f) => /^\d{12}\.seg$/.test(f))
    .map((f) => Number(f.slice(0, 12)))
    .sort((a, b) => a - b)
}

export interface Position {
  segment: number
  offset: number
}

const CHECKPOINT = 'checkpoint.json'

export function readCheckpoint(dir: string): Position {
  try {
    const p = JSON.parse(readFileSync(join(dir, CHECKPOINT), 'utf8')) as Position
    if (Number.isInteger(p.segment) && Number.isInteger(p.offset)) return p
  } catch {}
  return { segment: 0, offset: 0 }
}

/**
 * The checkpoint is replaced atomically (write + rename). It is not fsynced: if it is
 * lost, the drainer replays from an older position, and replays are idempotent.
 */
export function writeCheckpoint(dir: string, p: Position) {
  const tmp = join(dir, `${CHECKPOINT}.tmp`)
  writeFileSync(tmp, JSON.stringify(p))
  renameSync(tmp, join(dir, CHECKPOINT))
}

/**
 * A crash can leave a torn last line in the newest segment. It was never
 * acknowledged (acks follow a completed write), so it is cut off.
 */
export function repairTail(path: string): number {
  const size = statSync(path).size
  if (size === 0) return 0
  const fd = openSync(path, 'r+')
  try {
    const buf = readFileSync(path)
    const end = buf.lastIndexOf(0x0a) + 1
    if (end !== size) {
      ftruncateSync(fd, end)
      fsyncSync(fd)
    }
    return end
  } finally {
    closeSync(fd)
  }
}

export function fsyncDir(dir: string) {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
