import type { AttemptRecord, OutboxStore } from '../store/outbox-store.ts'

/**
 * Attempts that end in the same turn of the event loop are stored in one transaction: a commit per
 * attempt was most of what a delivery cost the process ingest shares. Each caller still waits for
 * its own outcome to be stored before its target's next delivery is looked at.
 */
export function createBatchedRecords(store: Pick<OutboxStore, 'recordMany'>, max = 64) {
  let batch: { id: number; r: AttemptRecord; done: (e?: unknown) => void }[] = []
  let scheduled = false

  const flush = async () => {
    scheduled = false
    const now = batch
    batch = []
    if (now.length === 0) return
    try {
      await store.recordMany(now)
      for (const a of now) a.done()
    } catch {
      // One at a time, so a failure fails only its own attempt: an attempt whose outcome was not
      // stored is sent again, and a batch's failure must not make every sent mail go twice.
      for (const a of now)
        await store.recordMany([a]).then(
          () => a.done(),
          (e: unknown) => a.done(e),
        )
    }
  }

  return {
    record(id: number, r: AttemptRecord): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        batch.push({ id, r, done: (e) => (e === undefined ? resolve() : reject(e)) })
        if (batch.length >= max) void flush()
        else if (!scheduled) {
          scheduled = true
          setImmediate(() => {
            if (scheduled) void flush()
          })
        }
      })
    },
  }
}
