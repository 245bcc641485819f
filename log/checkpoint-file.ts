import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Position } from './segments.ts'

/**
 * A reader's checkpoint in a small file, replaced atomically (write + rename).
 * Not fsynced: a lost checkpoint only means a replay, and the readers that use a
 * file (InfluxDB) are idempotent. A write that fails (disk full) throws, and the
 * reader tries its batch again later.
 */
export function checkpointFile(dir: string, reader: string) {
  const file = join(dir, `${reader}.checkpoint`)
  return {
    async load(): Promise<Position | null> {
      try {
        const p = JSON.parse(await readFile(file, 'utf8')) as Position
        // A position past the data is kept as it is: the cursor reports it and moves back onto the data.
        if (Number.isSafeInteger(p.segment) && p.segment >= 0 && Number.isFinite(p.offset) && p.offset >= 0) return p
      } catch {}
      return null
    },
    async save(p: Position) {
      await writeFile(`${file}.tmp`, JSON.stringify(p))
      await rename(`${file}.tmp`, file)
    },
  }
}
