import { readFileSync } from 'node:fs'

/** Frame boundaries of a log segment file, walked from the headers (independent of the code under test). */
export function frameOffsets(file: string): { offset: number; payloadBytes: number }[] {
  const buf = readFileSync(file)
  const out: { offset: number; payloadBytes: number }[] = []
  for (let off = 0; off < buf.length; ) {
    const len = buf.readUInt32LE(off + 2)
    out.push({ offset: off, payloadBytes: len })
    off += 10 + len
  }
  return out
}
