import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Delivery, SendOutcome } from '#devices'
import { createSender } from '../../outbox/sender.ts'
import { migrateToLatest, openStore, type Store } from '../../store/db.ts'
import { createOutboxStore, type NewDelivery, type OutboxStore } from '../../store/outbox-store.ts'
import { waitFor } from '../helpers/service.ts'

const backoff = { firstMs: 20, maxMs: 100, retryForMs: 60_000 }

describe('outbox sender', () => {
  let dir: string
  let store: Store
  let outbox: OutboxStore
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sp-sender-'))
    store = openStore({ dataDir: dir })
    await migrateToLatest(store)
    outbox = createOutboxStore(store.db)
  })
  afterEach(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const make = (targets: string[], perTarget: number): NewDelivery[] =>
    Array.from({ length: perTarget }, (_, i) =>
      targets.map((target) => ({
        eventId: `msg_${i}`,
        eventType: 'alert.raised' as const,
        channel: 'webhook' as const,
        target,
        payload: `{"n":${i}}`,
      })),
    ).flat()

  it('keeps each target in order, one at a time, while a target that hangs holds one slot and no other target waits', async () => {
    const targets = ['hang', 'flaky', ...Array.from({ length: 8 }, (_, i) => `ok-${i}`)]
    await outbox.commit('test', 0, 1, make(targets, 5))
    const sent: { target: string; n: number }[] = []
    const inFlight = new Map<string, number>()
    let flakyFailures = 0
    let maxInFlight = 0
    let releaseHang = () => {}
    const hang = new Promise<void>((r) => (releaseHang = r))
    const send = async (d: Delivery): Promise<SendOutcome> => {
      inFlight.set(d.target, (inFlight.get(d.target) ?? 0) + 1)
      maxInFlight = Math.max(
        maxInFlight,
        [...inFlight.values()].reduce((a, b) => a + b, 0),
      )
      expect(inFlight.get(d.target)).toBe(1)
      try {
        if (d.target === 'hang') await hang
        else await new Promise((r) => setTimeout(r, 2))
        if (d.target === 'flaky' && flakyFailures++ % 2 === 0) return { kind: 'retry', error: 'HTTP 503' }
        sent.push({ target: d.target, n: JSON.parse(d.payload).n })
        return { kind: 'delivered', status: 200 }
      } finally {
        inFlight.set(d.target, inFlight.get(d.target)! - 1)
      }
    }
    const sender = createSender({
      channel: 'webhook',
      store: outbox,
      send,
      backoff,
      // SQLite: heads are not checked against the store's oldest (one writer, ids visible in order).
      idsCommitInOrder: true,
      concurrency: 3,
      pollMs: 200,
      log: pino({ level: 'silent' }),
    })
    sender.start()
    // Everything but the hanging target arrives, with 2 of 3 slots, while the first is held by the hanging one.
    await waitFor(() => sent.length === 45, 10_000)
    expect(sent.some((s) => s.target === 'hang')).toBe(false)
    expect(maxInFlight).toBeLessThanOrEqual(3)
    for (const t of targets.slice(1))
      expect(
        sent.filter((s) => s.target === t).map((s) => s.n),
        t,
      ).toEqual([0, 1, 2, 3, 4])
    expect((await outbox.list({ target: 'flaky', limit: 5 })).every((d) => d.state === 'delivered' && d.attempts === 2)).toBe(true)
    releaseHang()
    await waitFor(() => sent.length === 50, 5_000)
    expect(sent.filter((s) => s.target === 'hang').map((s) => s.n)).toEqual([0, 1, 2, 3, 4])
    await sender.close(Date.now() + 1000)
  })

  it('leaves an attempt cut short by close() pending, to be tried again on the next start', async () => {
    await outbox.commit('test', 0, 1, make(['t'], 1))
    let started = false
    const send = (_d: Delivery, signal: AbortSignal) =>
      new Promise<SendOutcome>((resolve) => {
        started = true
        signal.addEventListener('abort', () => resolve({ kind: 'retry', error: 'aborted' }))
      })
    const sender = createSender({
      channel: 'webhook',
      store: outbox,
      send,
      backoff,
      concurrency: 1,
      pollMs: 200,
      log: pino({ level: 'silent' }),
    })
    sender.start()
    await waitFor(() => started, 5_000)
    const t0 = Date.now()
    await sender.close(Date.now() + 100)
    expect(Date.now() - t0).toBeLessThan(1000)
    expect(await outbox.list()).toEqual([expect.objectContaining({ state: 'pending', attempts: 0, lastError: null })])
  })

  it('sends what the producer adds after a wake(), a replayed dead letter after a resync(), and nothing twice when the index is read during an attempt', async () => {
    await outbox.commit('test', 0, 1, make(['a', 'b'], 2))
    const sent: string[] = []
    let failFirstOfB = true
    let releaseA = () => {}
    const gateA = new Promise<void>((r) => (releaseA = r))
    const send = async (d: Delivery): Promise<SendOutcome> => {
      if (d.target === 'a' && d.eventId === 'msg_0') await gateA
      if (d.target === 'b' && d.eventId === 'msg_0' && failFirstOfB) {
        failFirstOfB = false
        return { kind: 'dead', error: 'HTTP 400' }
      }
      sent.push(`${d.target}/${d.eventId}`)
      return { kind: 'delivered', status: 204 }
    }
    // The index read can be held after it has read its rows, so an attempt's outcome lands in between.
    let holdRead: Promise<void> | null = null
    let readHeld = false
    const store: OutboxStore = {
      ...outbox,
      async pending(channel, afterId) {
        const rows = await outbox.pending(channel, afterId)
        if (holdRead) {
          readHeld = true
          await holdRead
        }
        return rows
      },
    }
    const sender = createSender({
      channel: 'webhook',
      store,
      send,
      backoff,
      concurrency: 4,
      pollMs: 60_000,
      resyncMs: 60_000,
      log: pino({ level: 'silent' }),
    })
    sender.start()
    // b's first is dead, so b's second follows it; a waits on its first.
    await waitFor(() => sent.includes('b/msg_1'), 5_000)
    expect(sent).toEqual(['b/msg_1'])
    // While a's first is in flight, the whole index is read again (an admin replayed something), and a's
    // first is recorded delivered before the pass that reads it: it must not go out a second time.
    let releaseRead = () => {}
    holdRead = new Promise<void>((r) => (releaseRead = r))
    sender.resync()
    await waitFor(() => readHeld, 5_000)
    holdRead = null
    releaseA()
    await waitFor(async () => (await outbox.list({ target: 'a', limit: 1, state: 'delivered' })).length === 1, 5_000)
    releaseRead()
    await waitFor(() => sent.includes('a/msg_1'), 5_000)
    // The producer commits more: a wake() is enough (the poll is a minute away), in order after what was there.
    await outbox.commit('test', 1, 2, [{ ...make(['a'], 3)[2]!, eventId: 'msg_2' }])
    sender.wake()
    await waitFor(() => sent.includes('a/msg_2'), 5_000)
    // The dead letter replayed: only a resync() reads a row that changed in place.
    const dead = (await outbox.list({ state: 'dead' }))[0]!
    await outbox.replay(dead.id)
    sender.resync()
    await waitFor(() => sent.includes('b/msg_0'), 5_000)
    await new Promise((r) => setTimeout(r, 100))
    expect(sent).toEqual(['b/msg_1', 'a/msg_0', 'a/msg_1', 'a/msg_2', 'b/msg_0'])
    expect((await outbox.list({ limit: 10 })).every((d) => d.state === 'delivered')).toBe(true)
    await sender.close(Date.now() + 1000)
  })

  it('sends an older delivery of a target first even when it became visible after a newer one was indexed (ids committed out of order)', async () => {
    await outbox.commit('test', 0, 1, make(['a'], 2))
    const [first, second] = await outbox.pending('webhook', 0)
    // As on PostgreSQL: the index has read the newer id only (the older one's transaction had not committed yet).
    const store: OutboxStore = {
      ...outbox,
      async pending(channel, afterId) {
        const rows = await outbox.pending(channel, afterId)
        return hide ? rows.filter((r) => r.id !== first!.id) : rows
      },
    }
    let hide = true
    const sent: number[] = []
    const sender = createSender({
      channel: 'webhook',
      store,
      send: async (d) => {
        sent.push(d.id)
        return { kind: 'delivered', status: 204 }
      },
      backoff,
      concurrency: 2,
      pollMs: 50,
      log: pino({ level: 'silent' }),
    })
    sender.start()
    // The newer head is refused against the store's oldest pending id, and the whole index is read again.
    await new Promise((r) => setTimeout(r, 200))
    expect(sent).toEqual([])
    hide = false
    await waitFor(() => sent.length === 2, 5_000)
    expect(sent).toEqual([first!.id, second!.id])
    await sender.close(Date.now() + 1000)
  })
})
