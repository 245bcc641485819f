import { describe, expect, it } from 'vitest'
import type { Store } from '../../store/db.ts'
import { type AttemptRecord, createOutboxStore } from '../../store/outbox-store.ts'
import { claimFence, FencedError } from '../../store/reader-fences.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const T0 = new Date('2026-12-01T09:00:00.000Z')
const delivered = (): AttemptRecord => ({ state: 'delivered', at: new Date() })

/** An outbox store on `store` with one pending webhook delivery, and that delivery's id. */
const oneDelivery = async (store: Store, opts: { fenceHoldS?: number } = {}) => {
  const outbox = createOutboxStore(store.db, store.dialect, opts)
  await outbox.commit(
    'alert_history',
    0,
    1,
    [{ eventId: 'msg_1', eventType: 'alert.raised', channel: 'webhook', target: 'a', payload: '{}' }],
    T0,
  )
  const [p] = await outbox.pending('webhook', 0)
  return { outbox, id: p!.id }
}

// Issue 15: the outbox runs on one node at a time; a node paused past its lease must not send what the next holder sends.
describe.each(STORE_ADAPTERS)('the outbox fence on %s', (_dialect, open) => {
  const s = freshStore(open, 'sp-outbox-fence-')

  it("stores an attempt's outcome with it while the fence is its own; with the fence moved on, it refuses before sending", async () => {
    const { outbox, id } = await oneDelivery(s.store)
    await claimFence(s.store.db, 'outbox', 7)
    expect(await outbox.attemptFenced({ reader: 'outbox', epoch: 7 }, id, async () => delivered())).toMatchObject({ state: 'delivered' })
    expect((await outbox.get(id))?.state).toBe('delivered')

    const second = await outbox.enqueue(
      [{ eventId: 'msg_2', eventType: 'alert.raised', channel: 'webhook', target: 'a', payload: '{}' }],
      T0,
    )
    expect(second).toBe(1)
    const [p2] = await outbox.pending('webhook', 0)
    await claimFence(s.store.db, 'outbox', 8)
    let sent = 0
    await expect(
      outbox.attemptFenced({ reader: 'outbox', epoch: 7 }, p2!.id, async () => {
        sent++
        return delivered()
      }),
    ).rejects.toBeInstanceOf(FencedError)
    expect(sent).toBe(0)
    expect((await outbox.get(p2!.id))?.state).toBe('pending')
  })

  it('an attempt that ends without an outcome (stopped mid-way) leaves the delivery as it was', async () => {
    const { outbox, id } = await oneDelivery(s.store)
    await claimFence(s.store.db, 'outbox', 3)
    expect(await outbox.attemptFenced({ reader: 'outbox', epoch: 3 }, id, async () => null)).toBeNull()
    expect(await outbox.get(id)).toMatchObject({ state: 'pending', attempts: 0 })
  })
})

// Row locks are PostgreSQL's (cluster mode's store); SQLite has one writer and runs on one node.
describe('the outbox fence on postgres, under a takeover', () => {
  const [, open] = STORE_ADAPTERS.find(([d]) => d === 'postgres')!
  const s = freshStore(open, 'sp-outbox-takeover-')
  it("a node taking the outbox over waits for the former holder's attempt in flight to end and be stored", async () => {
    const { outbox, id } = await oneDelivery(s.store)
    await claimFence(s.store.db, 'outbox', 1)
    let release: (r: AttemptRecord) => void = () => {}
    const sending = new Promise<AttemptRecord>((r) => (release = r))
    const inFlight = outbox.attemptFenced({ reader: 'outbox', epoch: 1 }, id, () => sending)
    // The attempt holds the fence before the takeover asks for it.
    await new Promise((r) => setTimeout(r, 200))
    let claimed = false
    const takeover = claimFence(s.store.db, 'outbox', 2).then(() => {
      claimed = true
    })
    await new Promise((r) => setTimeout(r, 500))
    expect(claimed).toBe(false)
    release(delivered())
    await inFlight
    await takeover
    expect(claimed).toBe(true)
    // What the new holder reads first is the former holder's outcome: nothing to send again.
    expect((await outbox.get(id))?.state).toBe('delivered')
    expect(await outbox.pending('webhook', 0)).toEqual([])
  })
})

describe('the outbox fence on postgres, a former holder frozen mid-send', () => {
  const [, open] = STORE_ADAPTERS.find(([d]) => d === 'postgres')!
  const s = freshStore(open, 'sp-outbox-frozen-')
  it('holds the next holder back only as long as its session may stay idle in the transaction', async () => {
    // A 1 s hold for the test; the service's is FENCE_HOLD_S (90 s).
    const { outbox, id } = await oneDelivery(s.store, { fenceHoldS: 1 })
    await claimFence(s.store.db, 'outbox', 1)
    let unfreeze: (r: AttemptRecord) => void = () => {}
    // The send never returns while the test holds it: a frozen process, as PostgreSQL sees it.
    const frozen = outbox.attemptFenced({ reader: 'outbox', epoch: 1 }, id, () => new Promise<AttemptRecord>((r) => (unfreeze = r)))
    const outcome = frozen.then(
      () => 'stored',
      (e: Error) => e.message,
    )
    await new Promise((r) => setTimeout(r, 200))
    const started = Date.now()
    await claimFence(s.store.db, 'outbox', 2)
    const waited = Date.now() - started
    expect(waited).toBeGreaterThan(500)
    expect(waited).toBeLessThan(10_000)
    // Thawed, the former holder cannot store what it did: its session was ended, the delivery is still pending.
    unfreeze(delivered())
    expect(await outcome).toMatch(/terminat|idle-in-transaction|connection/i)
    expect((await outbox.get(id))?.state).toBe('pending')
  })
})
