import type { Logger } from 'pino'
import type { ReadingRecord } from '#devices'
import type { Batch } from '../log/cursor.ts'
import type { ReaderHandler } from '../log/reader.ts'
import type { Position } from '../log/segments.ts'
import type { InfluxClient } from './client.ts'
import { readingLine } from './schema.ts'

export interface InfluxWriterDeps {
  client: InfluxClient
  checkpoint: { load(): Promise<Position | null>; save(p: Position): Promise<void> }
  log: Logger
  /** A reading InfluxDB refused on its own, with the reason: it goes to quarantine, the rest lands. */
  onRejected(record: ReadingRecord, reason: string): Promise<void>
  /**
   * Just before a batch is sent, and again once InfluxDB confirmed it (`points` is how many then):
   * open data notes the days the readings change. InfluxDB answers queries with a point before the
   * write's answer reaches us, so a note only after would let a request meet the new rows under the
   * old version; a note only before would let one read the old rows under the new version.
   */
  onWriting?(records: readonly ReadingRecord[]): void
  /** After InfluxDB confirmed them: how many, and which readings. */
  onWritten(points: number, records: readonly ReadingRecord[]): void
  /** Recreates the database after a 404 (an InfluxDB 1.x server wiped or replaced). */
  onMissingDatabase(): Promise<void>
}

/**
 * The log reader that writes readings to InfluxDB. Its checkpoint moves only
 * after InfluxDB confirms a batch; a batch with a line InfluxDB refuses is halved
 * until the line stands alone, so one bad reading never holds up the rest.
 */
export function createInfluxWriter(deps: InfluxWriterDeps): ReaderHandler & { readonly lastError: string | null } {
  let lastError: string | null = null
  // Readings of the batch in hand already sent to quarantine: a retry of the batch does not send them twice.
  const rejected = new Set<ReadingRecord>()
  const reject = async (record: ReadingRecord, reason: string) => {
    if (rejected.has(record)) return
    deps.log.warn({ deviceId: record.deviceId, reason }, 'InfluxDB refused a reading; quarantined')
    await deps.onRejected(record, reason)
    rejected.add(record)
  }

  const writeAll = async (lines: string[], records: ReadingRecord[]): Promise<void> => {
    deps.onWriting?.(records)
    const r = await deps.client.write(lines)
    if (r.kind === 'ok') {
      lastError = null
      deps.onWritten(lines.length, records)
      return
    }
    if (r.kind === 'bad-data') {
      if (lines.length === 1) return reject(records[0]!, r.reason)
      const mid = lines.length >> 1
      await writeAll(lines.slice(0, mid), records.slice(0, mid))
      await writeAll(lines.slice(mid), records.slice(mid))
      return
    }
    lastError = r.reason
    if (r.reason.startsWith('HTTP 404')) await deps.onMissingDatabase().catch(() => {})
    throw new Error(`InfluxDB write failed: ${r.reason}`)
  }

  return {
    get lastError() {
      return lastError
    },
    load: () => deps.checkpoint.load(),
    async handle(batch: Batch) {
      const lines: string[] = []
      const records: ReadingRecord[] = []
      for (const rec of batch.records) {
        if (rec.kind !== 'reading') continue
        const line = readingLine(rec)
        // Nothing to store (a device type this release no longer knows, or no field): kept in quarantine, not dropped.
        if (line === null) await reject(rec, `no line for it: unknown device type ${rec.type} or no field with a value`)
        else {
          lines.push(line)
          records.push(rec)
        }
      }
      if (lines.length) await writeAll(lines, records)
      await deps.checkpoint.save(batch.end)
      rejected.clear()
    },
  }
}
