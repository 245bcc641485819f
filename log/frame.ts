import { crc32 } from 'node:zlib'

/**
 * One record on disk: magic (2 bytes) | payload length (u32 LE) | CRC-32 of the
 * payload (u32 LE) | payload. The magic lets a reader find the next frame after
 * damage; the checksum tells a torn or altered frame from a good one. The
 * payload's first byte names the record's kind (KIND_BYTES), so a reader skips
 * kinds it does not handle without parsing them; the rest is the record as JSON.
 */
export const MAGIC_0 = 0x53 // 'S'
export const MAGIC_1 = 0x50 // 'P'
export const HEADER_BYTES = 10
/** Far above any record we write (telemetry ≤ 16 KiB, quarantine payloads cut at 64 KiB): a larger length is damage. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024

export const KIND_BYTES = { reading: 0x72, quarantine: 0x71 } as const // 'r', 'q'

/** Frames several payloads into one buffer, for one write per group commit. */
export function encodeFrames(payloads: readonly Buffer[]): Buffer {
  let total = 0
  for (const p of payloads) total += HEADER_BYTES + p.length
  const out = Buffer.allocUnsafe(total)
  let at = 0
  for (const p of payloads) {
    out[at] = MAGIC_0
    out[at + 1] = MAGIC_1
    out.writeUInt32LE(p.length, at + 2)
    out.writeUInt32LE(crc32(p), at + 6)
    p.copy(out, at + HEADER_BYTES)
    at += HEADER_BYTES + p.length
  }
  return out
}

export type FrameAt =
  | { kind: 'frame'; start: number; end: number }
  | { kind: 'incomplete' }
  | { kind: 'corrupt'; reason: 'bad magic' | 'bad length' | 'bad checksum' }

/** The frame starting at `off` in `buf[0, end)`; `start`/`end` bound its payload. */
/** `verify: false` skips the checksum, for a frame whose bytes were already verified at this position. */
export function frameAt(buf: Buffer, off: number, end: number, verify = true): FrameAt {
  if (end - off < HEADER_BYTES) return { kind: 'incomplete' }
  if (buf[off] !== MAGIC_0 || buf[off + 1] !== MAGIC_1) return { kind: 'corrupt', reason: 'bad magic' }
  const len = buf.readUInt32LE(off + 2)
  if (len === 0 || len > MAX_PAYLOAD_BYTES) return { kind: 'corrupt', reason: 'bad length' }
  const start = off + HEADER_BYTES
  if (start + len > end) return { kind: 'incomplete' }
  if (verify && crc32(buf.subarray(start, start + len)) !== buf.readUInt32LE(off + 6)) return { kind: 'corrupt', reason: 'bad checksum' }
  return { kind: 'frame', start, end: start + len }
}

/** The offset of the next good frame after damage at `from`, or -1 when none starts in `buf[from, end)`. */
export function resync(buf: Buffer, from: number, end: number): number {
  for (let i = buf.indexOf(MAGIC_0, from + 1); i >= 0 && i < end; i = buf.indexOf(MAGIC_0, i + 1)) {
    if (buf[i + 1] === MAGIC_1 && frameAt(buf, i, end).kind === 'frame') return i
  }
  return -1
}
