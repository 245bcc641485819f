import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createAlertStore } from '../../store/alert-store.ts'
import { alertHistorySource, collectionsSource } from '../../store/outbox-sources.ts'
import { createOutboxStore, type NewDelivery } from '../../store/outbox-store.ts'
import { createSecretBox } from '../../store/webhook-secrets.ts'
import { createWebhookStore } from '../../store/webhook-store.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const T0 = new Date('2026-12-01T09:00:00.000Z')
const d = (eventId: string, target: string): NewDelivery => ({
  eventId,
  eventType: 'alert.raised',
  channel: 'webhook',
  target,
  payload: JSON.stringify({ type: 'alert.raised', id: eventId }),
})

describe.each(STORE_ADAPTERS)('outbox store on %s', (_dialect, open) => {
  const s = freshStore(open, 'sp-outbox-')

  it('stores deliveries and the cursor together; a replayed batch makes no second delivery; a stale cursor writes nothing', async () => {
    const outbox = createOutboxStore(s.store.db)
    expect(s.migrated).toContain('0012-outbox')
    expect(await outbox.cursor('alert_history')).toBeNull()
    expect(await outbox.commit('alert_history', 0, 3, [d('msg_1', 'a'), d('msg_1', 'b'), d('msg_2', 'a')], T0)).toBe(3)
    expect(await outbox.cursor('alert_history')).toBe(3)
    // Another producer (or a replay from an old cursor) is refused as a whole.
    expect(await outbox.commit('alert_history', 0, 3, [d('msg_9', 'a')], T0)).toBe(false)
    expect(await outbox.commit('alert_history', 1, 5, [d('msg_9', 'a')], T0)).toBe(false)
    expect((await outbox.list()).map((x) => x.eventId)).not.toContain('msg_9')
    // The same events again (a cursor that was rolled back): the unique key keeps one delivery each.
    expect(await outbox.commit('alert_history', 3, 4, [d('msg_2', 'a'), d('msg_3', 'a')], T0)).toBe(1)
    const all = await outbox.list()
    expect(all.map((x) => [x.eventId, x.target, x.state, x.attempts])).toEqual([
      ['msg_3', 'a', 'pending', 0],
      ['msg_2', 'a', 'pending', 0],
      ['msg_1', 'b', 'pending', 0],
      ['msg_1', 'a', 'pending', 0],
    ])
    expect(await outbox.cursor('alert_history')).toBe(4)
  })

  it("lists a channel's pending deliveries in id order, after an id, with when each is due; an attempt's outcome moves them", async () => {
    const outbox = createOutboxStore(s.store.db)
    await outbox.commit('alert_history', 0, 1, [d('msg_1', 'a'), d('msg_1', 'b'), d('msg_2', 'a'), d('msg_2', 'b')], T0)
    const now = T0.getTime()
    const pending = await outbox.pending('webhook', 0)
    expect(pending.map((p) => [p.target, p.dueMs])).toEqual([
      ['a', now],
      ['b', now],
      ['a', now],
      ['b', now],
    ])
    expect(pending.map((p) => p.id)).toEqual([...pending.map((p) => p.id)].sort((x, y) => x - y))
    expect((await outbox.pending('webhook', pending[1]!.id)).map((p) => p.id)).toEqual([pending[2]!.id, pending[3]!.id])
    expect(await outbox.pending('open311', 0)).toEqual([])
    // Made by a schedule (a digest): due when asked, and enqueued once however often it is asked.
    const at = new Date(now + 5_000)
    const digest = { ...d('digest:p1:2026-12-01', 'p1'), channel: 'open311' as const }
    expect(await outbox.enqueue([digest], at)).toBe(1)
    expect(await outbox.enqueue([digest], at)).toBe(0)
    expect((await outbox.pending('open311', 0)).map((p) => [p.target, p.dueMs])).toEqual([['p1', now + 5_000]])

    // a's head fails and waits a minute; b's head is delivered and leaves the pending list.
    const [a1, b1] = await outbox.getMany([pending[0]!.id, pending[1]!.id]).then((r) => r.sort((x, y) => x.id - y.id))
    expect([a1!.eventId, a1!.target, b1!.eventId, b1!.target]).toEqual(['msg_1', 'a', 'msg_1', 'b'])
    expect(await outbox.getMany([])).toEqual([])
    await outbox.record(a1!.id, { state: 'pending', at: T0, nextAttemptMs: now + 60_000, error: 'ECONNREFUSED' })
    await outbox.record(b1!.id, { state: 'delivered', at: T0 })
    expect((await outbox.pending('webhook', 0)).map((p) => [p.id, p.dueMs])).toEqual([
      [a1!.id, now + 60_000],
      [pending[2]!.id, now],
      [pending[3]!.id, now],
    ])
    // Outcomes of attempts that ended together, in one transaction.
    const digestId = (await outbox.pending('open311', 0))[0]!.id
    await outbox.recordMany([
      { id: pending[3]!.id, r: { state: 'delivered', at: T0 } },
      { id: digestId, r: { state: 'dead', at: T0, error: 'HTTP 400' } },
    ])
    expect((await outbox.pending('webhook', 0)).map((p) => p.id)).toEqual([a1!.id, pending[2]!.id])
    expect(await outbox.pending('open311', 0)).toEqual([])
    expect(await outbox.get(digestId)).toMatchObject({ state: 'dead', attempts: 1, lastError: 'HTTP 400' })
    // A second outcome for a delivery no longer pending changes nothing.
    await outbox.record(b1!.id, { state: 'dead', at: T0, error: 'late' })
    expect(await outbox.get(b1!.id)).toMatchObject({ state: 'delivered', attempts: 1 })
    expect(await outbox.get(a1!.id)).toMatchObject({ attempts: 1, lastError: 'ECONNREFUSED', firstAttemptAt: T0.toISOString() })
    expect((await outbox.get(a1!.id))!.nextAttemptAt).toBe(new Date(now + 60_000).toISOString())
    expect(await outbox.get(b1!.id)).toMatchObject({ state: 'delivered', attempts: 1, deliveredAt: T0.toISOString() })

    // Dead-lettered, then replayed by an admin: pending again, due now, with a fresh retry period.
    await outbox.record(a1!.id, { state: 'dead', at: T0, error: 'gave up' })
    expect(await outbox.replay(b1!.id)).toBe('not-dead')
    expect(await outbox.replay(999_999)).toBeNull()
    const later = new Date(now + 3_600_000)
    expect(await outbox.replay(a1!.id, later)).toMatchObject({ state: 'pending', firstAttemptAt: null, nextAttemptAt: later.toISOString() })
    expect((await outbox.list({ state: 'dead' })).map((x) => x.id)).toEqual([digestId])
    expect((await outbox.list({ target: 'a' })).map((x) => x.eventId)).toEqual(['msg_2', 'msg_1'])
    expect(await outbox.abandon('webhook', 'a', 'the subscription was deleted')).toBe(2)
    expect((await outbox.list({ state: 'dead', target: 'a' })).map((x) => x.lastError)).toEqual([
      'the subscription was deleted',
      'the subscription was deleted',
    ])
  })

  it('keeps webhook secrets sealed, shows them once, and signs with both keys during a rotation overlap', async () => {
    const box = createSecretBox(randomBytes(32))
    const hooks = createWebhookStore(s.store.db, box)
    const input = {
      url: 'https://hooks.example/in',
      description: 'contractor',
      eventTypes: ['alert.raised' as const],
      ruleIds: [],
      areas: ['north'],
    }
    const made = await hooks.create(input, 'admin-token', T0)
    expect(made.secret).toMatch(/^whsec_/)
    const key = Buffer.from(made.secret.slice(6), 'base64')
    const row = await s.store.db.selectFrom('webhook_subscriptions').select('secret').executeTakeFirstOrThrow()
    expect(Buffer.from(row.secret).includes(key)).toBe(false)
    expect(await hooks.list()).toEqual([expect.not.objectContaining({ secret: expect.anything() })])
    expect(await hooks.routes()).toEqual([{ id: made.id, eventTypes: ['alert.raised'], ruleIds: [], areas: ['north'] }])
    expect((await hooks.signing(made.id, T0))!.keys).toEqual([key])

    const rotated = await hooks.rotate(made.id, 3_600_000, T0)
    const next = Buffer.from(rotated!.secret.slice(6), 'base64')
    expect(rotated!.previousSecretUntil).toBe(new Date(T0.getTime() + 3_600_000).toISOString())
    expect(await hooks.signing(made.id, new Date(T0.getTime() + 1000))).toMatchObject({
      keys: [next, key],
      changesAt: T0.getTime() + 3_600_000,
    })
    expect(await hooks.signing(made.id, new Date(T0.getTime() + 3_600_001))).toMatchObject({ keys: [next], changesAt: null })
    expect(await hooks.rotate('00000000-0000-4000-8000-000000000000', 0)).toBeNull()
    expect(await hooks.delete(made.id)).toBe(true)
    expect(await hooks.signing(made.id)).toBeNull()
  })

  it('turns alert history rows into events (an offline alert also as device.offline) and collections into collection.recorded', async () => {
    const alerts = createAlertStore(s.store.db)
    const base = { deviceId: 'bin-1', deviceType: 'bin', site: 'market-square', value: 0.97, ts: T0.getTime() }
    const a = (await alerts.raise({ ...base, rule: { id: 'bin-full', title: 'Bin full', severity: 'warning' } }))!
    await alerts.command(a.id, { command: 'assign', to: 'team:crew@all' }, 'admin-token', T0)
    await alerts.raise({ ...base, rule: { id: 'device-offline', title: 'Device not reporting', severity: 'warning' } })
    const rows = await alertHistorySource(s.store.db).after(0, 10)
    expect(rows.map((r) => [r.id, r.events.map((e) => [e.id, e.type, e.site, e.ruleId])])).toEqual([
      [1, [['msg_ah1', 'alert.raised', 'market-square', 'bin-full']]],
      // Assigning sends nothing, but the row is there: the producer sees no gap.
      [2, []],
      [
        3,
        [
          ['msg_ah3', 'alert.raised', 'market-square', 'device-offline'],
          ['msg_ah3_offline', 'device.offline', 'market-square', 'device-offline'],
        ],
      ],
    ])
    expect(rows[0]!.events[0]!.payload).toEqual({
      type: 'alert.raised',
      timestamp: T0.toISOString(),
      data: {
        ...{ alertId: a.id, deviceId: 'bin-1', deviceType: 'bin', site: 'market-square', ruleId: 'bin-full', title: 'Bin full' },
        ...{ severity: 'warning', status: 'active', value: 0.97, at: T0.toISOString(), actor: 'system', note: null },
      },
    })
    expect(await alertHistorySource(s.store.db).after(2, 10)).toHaveLength(1)
    expect(await alertHistorySource(s.store.db).latest()).toBe(3)
    expect(await collectionsSource(s.store.db).latest()).toBe(0)

    await s.store.db
      .insertInto('collections')
      .values({
        device_id: 'bin-1',
        at: T0.getTime(),
        level_before: 0.9,
        level_after: 0.05,
        wasted: 0,
        tilted: 0,
        source: 'manual',
        actor: 'admin-token',
        recorded_at: T0.toISOString(),
      })
      .execute()
    const [col] = await collectionsSource(s.store.db).after(0, 10)
    expect(col!.events.map((e) => [e.id, e.type, e.payload.data])).toEqual([
      [
        'msg_col1',
        'collection.recorded',
        { deviceId: 'bin-1', site: null, at: T0.toISOString(), levelBefore: 0.9, levelAfter: 0.05, source: 'manual' },
      ],
    ])
  })
})
