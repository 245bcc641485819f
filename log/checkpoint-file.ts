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
        if (Number.isSafeInteger(p.segment) && Number.isSafeInteger(p.offset) && p.segment >= 0 && p.offset >= 0) return p
      } catch {}
      return null
    },
    async save(p: Position) {
      await writeFile(`${file}.tmp`, JSON.stringify(p))
      await rename(`${file}.tmp`, file)
    },
  }
}
