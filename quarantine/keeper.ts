import type { QuarantineRecord } from '#devices'
import type { Batch } from '../log/cursor.ts'
import type { ReaderHandler } from '../log/reader.ts'
import type { Position } from '../log/segments.ts'
import type { NewQuarantine } from '../registry/quarantine-repo.ts'

export const QUARANTINE_READER = 'quarantine'

export interface QuarantineKeeperStore {
  quarantine: { add(e: NewQuarantine): void }
  checkpoints: { get(reader: string): Position | null; set(reader: string, p: Position): void }
  transaction<T>(fn: () => T): T
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
export function createQuarantineKeeper(store: QuarantineKeeperStore): ReaderHandler {
  return {
    load: async () => store.checkpoints.get(QUARANTINE_READER),
    async handle(batch: Batch) {
      store.transaction(() => {
        for (const r of batch.records) if (r.kind === 'quarantine') store.quarantine.add(toNewQuarantine(r))
        store.checkpoints.set(QUARANTINE_READER, batch.end)
      })
    },
  }
}
