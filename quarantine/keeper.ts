import type { QuarantineRecord } from '#devices'
import type { Batch } from '../log/cursor.ts'
import type { ReaderHandler } from '../log/reader.ts'
import type { Position } from '../log/segments.ts'
import type { NewQuarantine } from '../store/quarantine-store.ts'

export const QUARANTINE_READER = 'quarantine'

export interface QuarantineKeeperStore {
  checkpoints: { get(reader: string): Promise<Position | null> }
  /** Entries and the checkpoint in one transaction. */
  keepQuarantine(entries: readonly NewQuarantine[], reader: string, checkpoint: Position, fence?: number): Promise<void>
}

export const toNewQuarantine = (r: QuarantineRecord): NewQuarantine => ({
  receivedAt: new Date(r.receivedAt),
  deviceId: r.deviceId,
  topic: r.topic,
  code: r.code,
  reason: r.reason,
  issues: r.issues,
  payload: Buffer.from(r.payload, 'base64'),
})

/**
 * The log reader that keeps quarantined messages in the store. Entries and the
 * checkpoint commit in one transaction, so a replay after a crash adds nothing twice.
 */
export function createQuarantineKeeper(
  store: QuarantineKeeperStore,
  now: () => number = Date.now,
  /** Its checkpoint's name (one per partition in cluster mode). */
  reader = QUARANTINE_READER,
  /** Cluster mode: the epoch this node reads the partition with. */
  fence?: number,
): ReaderHandler {
  let saved: Position | null = null
  let savedAt = 0
  return {
    async load() {
      saved = await store.checkpoints.get(reader)
      return saved
    },
    async handle(batch: Batch) {
      const entries: NewQuarantine[] = []
      for (const r of batch.records) if (r.kind === 'quarantine') entries.push(toNewQuarantine(r))
      // Most batches hold only readings: their checkpoint is saved at most once a second (a replay of them adds nothing).
      if (entries.length === 0 && now() - savedAt < 1_000) return saved ?? undefined
      await store.keepQuarantine(entries, reader, batch.end, fence)
      saved = batch.end
      savedAt = now()
      return saved
    },
  }
}
