import { describe, expect, it } from 'vitest'
import { createBatchedRecords } from '../../outbox/batched-records.ts'
import type { AttemptRecord } from '../../store/outbox-store.ts'

const delivered: AttemptRecord = { state: 'delivered', at: new Date(0) }

describe('attempt outcomes stored together', () => {
  it('stores outcomes that end in one turn in one call, and each caller waits for its own', async () => {
    const calls: number[][] = []
    let release = () => {}
    const gate = new Promise<void>((r) => (release = r))
    const b = createBatchedRecords({
      recordMany: async (a) => {
        calls.push(a.map((x) => x.id))
        await gate
      },
    })
    let stored = 0
    const all = [1, 2, 3].map((id) => b.record(id, delivered).then(() => stored++))
    await new Promise((r) => setImmediate(r))
    expect(calls).toEqual([[1, 2, 3]])
    expect(stored).toBe(0)
    release()
    await Promise.all(all)
    expect(stored).toBe(3)
    await b.record(4, delivered)
    expect(calls).toEqual([[1, 2, 3], [4]])
  })

  it('stores at once when the batch is full, and when a batch fails, stores each alone so only the failing one fails', async () => {
    const calls: number[][] = []
    const b = createBatchedRecords(
      {
        recordMany: async (a) => {
          calls.push(a.map((x) => x.id))
          if (a.some((x) => x.id === 2)) throw new Error('SQLITE_BUSY')
        },
      },
      2,
    )
    const r = [1, 2, 3].map((id) =>
      b.record(id, delivered).then(
        () => 'ok',
        (e: Error) => e.message,
      ),
    )
    // The batch failed: each is stored on its own, and only the one that fails again fails its caller.
    expect(await Promise.all(r)).toEqual(['ok', 'SQLITE_BUSY', 'ok'])
    expect(calls).toEqual([[1, 2], [1], [2], [3]])
  })
})
