import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import type { RoutedEvent } from '#devices'
import { contiguous, createProducer, matches } from '../../outbox/producer.ts'
import { createAlertStore } from '../../store/alert-store.ts'
import { migrateToLatest, openStore } from '../../store/db.ts'
import { createOutboxStore } from '../../store/outbox-store.ts'
import { createSecretBox } from '../../store/webhook-secrets.ts'
import { createWebhookStore } from '../../store/webhook-store.ts'
import { waitFor } from '../helpers/service.ts'

const event = (over: Partial<RoutedEvent> = {}): RoutedEvent => ({
  id: 'msg_ah1',
  type: 'alert.raised',
  site: 'market-square',
  ruleId: 'bin-fire',
  payload: { type: 'alert.raised', timestamp: '2026-12-01T09:00:00.000Z', data: {} as never },
  ...over,
})
const route = (over: Partial<{ eventTypes: string[]; ruleIds: string[]; areas: string[] }> = {}) => ({
  id: 's',
  eventTypes: ['alert.raised'],
  ruleIds: [],
  areas: [],
  ...over,
})

describe('subscription matching', () => {
  const areas = new Map([
    ['north', ['market-square', 'station']],
    ['south', ['park']],
  ])
  it('matches by event type, then by rule and area when the subscription names them', () => {
    expect(matches(route(), event(), areas)).toBe(true)
    expect(matches(route({ eventTypes: ['alert.cleared'] }), event(), areas)).toBe(false)
    expect(matches(route({ ruleIds: ['bin-fire'] }), event(), areas)).toBe(true)
    expect(matches(route({ ruleIds: ['bin-full'] }), event(), areas)).toBe(false)
    expect(
      matches(route({ eventTypes: ['case.opened'], ruleIds: ['bin-fire'] }), event({ type: 'case.opened', ruleId: null }), areas),
    ).toBe(false)
    expect(matches(route({ areas: ['north'] }), event(), areas)).toBe(true)
    expect(matches(route({ areas: ['south'] }), event(), areas)).toBe(false)
    expect(matches(route({ areas: ['south', 'north'] }), event(), areas)).toBe(true)
    expect(matches(route({ areas: ['north'] }), event({ site: null }), areas)).toBe(false)
    expect(matches(route({ areas: ['gone'] }), event(), areas)).toBe(false)
  })
})

describe('rows taken from a source', () => {
  const rows = (...ids: number[]) => ids.map((id) => ({ id, events: [] }))
  it('takes rows up to a gap in the ids, and past it once the gap stayed longer than the wait (a rolled-back write)', () => {
    const gaps = new Map<string, number>()
    expect(contiguous(rows(4, 5, 6), 3, gaps, 's', 1000, 10_000).map((r) => r.id)).toEqual([4, 5, 6])
    // 7 not yet committed (PostgreSQL): 8 waits for it.
    expect(contiguous(rows(8, 9), 6, gaps, 's', 1000, 10_000)).toEqual([])
    expect(contiguous(rows(8, 9), 6, gaps, 's', 5000, 10_000)).toEqual([])
    // 7 arrives: everything in order.
    expect(contiguous(rows(7, 8, 9), 6, new Map(gaps), 's', 6000, 10_000).map((r) => r.id)).toEqual([7, 8, 9])
    // 7 never comes: after the wait, the gap is passed.
    expect(contiguous(rows(8, 9), 6, gaps, 's', 11_001, 10_000).map((r) => r.id)).toEqual([8, 9])
    expect(gaps.size).toBe(0)
    // A gap after some rows: those before it are taken.
    expect(contiguous(rows(1, 2, 4), 0, new Map(), 's', 0, 10_000).map((r) => r.id)).toEqual([1, 2])
  })
})

describe('producer over a real store', () => {
  it('starts after the history that was already there, then turns each new row into one delivery per matching subscription', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sp-producer-'))
    const store = openStore({ dataDir: dir })
    try {
      await migrateToLatest(store)
      const alerts = createAlertStore(store.db)
      const outbox = createOutboxStore(store.db)
      const hooks = createWebhookStore(store.db, createSecretBox(randomBytes(32)))
      const raise = (ts: number, ruleId = 'bin-full') =>
        alerts.raise({
          deviceId: 'bin-1',
          deviceType: 'bin',
          site: 'market-square',
          value: 1,
          ts,
          rule: { id: ruleId, title: ruleId, severity: 'warning' },
        })
      await raise(1000)
      const all = await hooks.create(
        { url: 'https://a.example/', description: '', eventTypes: ['alert.raised'], ruleIds: [], areas: [] },
        'x',
      )
      const fires = await hooks.create(
        { url: 'https://b.example/', description: '', eventTypes: ['alert.raised'], ruleIds: ['bin-fire'], areas: [] },
        'x',
      )
      let woken = 0
      const producer = createProducer({
        sources: outbox.sources,
        store: outbox,
        routes: () => hooks.routes(),
        sitesByArea: async () => new Map(),
        batch: 2,
        pollMs: 20,
        gapWaitMs: 1000,
        log: pino({ level: 'silent' }),
        onDeliveries: () => woken++,
      })
      producer.start()
      await waitFor(async () => (await outbox.cursor('alert_history')) === 1, 5_000)
      await raise(2000)
      await raise(3000, 'bin-fire')
      await raise(4000)
      producer.poke()
      await waitFor(async () => (await outbox.cursor('alert_history')) === 4, 5_000)
      await producer.close()
      const list = (await outbox.list()).reverse()
      // In event order; within one event, the subscriptions in any order.
      const made = list.map((d) => [d.eventId, d.target === all.id ? 'all' : d.target === fires.id ? 'fires' : d.target])
      expect(made.map((m) => m[0])).toEqual(['msg_ah2', 'msg_ah3', 'msg_ah3', 'msg_ah4'])
      expect(made.sort()).toEqual([
        ['msg_ah2', 'all'],
        ['msg_ah3', 'all'],
        ['msg_ah3', 'fires'],
        ['msg_ah4', 'all'],
      ])
      expect(woken).toBeGreaterThan(0)
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('producer commits', () => {
  it('keeps each commit near the delivery cap, never splitting a row, so the write lock is held briefly', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, events: [event({ id: `msg_ah${i + 1}` })] }))
    const commits: { from: number; to: number; n: number }[] = []
    let cursor = 0
    const producer = createProducer({
      sources: [
        { name: 'alert_history', after: async (id, limit) => rows.filter((r) => r.id > id).slice(0, limit), latest: async () => 0 },
      ],
      store: {
        cursor: async () => cursor,
        commit: async (_s, from, to, deliveries) => {
          commits.push({ from, to, n: deliveries.length })
          cursor = to
          return deliveries.length
        },
      },
      routes: async () => ['a', 'b', 'c'].map((id) => ({ ...route(), id })),
      sitesByArea: async () => new Map(),
      batch: 500,
      pollMs: 10_000,
      gapWaitMs: 1000,
      maxDeliveries: 4,
      log: pino({ level: 'silent' }),
      onDeliveries: () => {},
    })
    producer.start()
    await waitFor(() => cursor === 5, 5_000)
    await producer.close()
    // Three subscriptions: a row makes three deliveries; a commit stops at the first row past four.
    expect(commits).toEqual([
      { from: 0, to: 2, n: 6 },
      { from: 2, to: 4, n: 6 },
      { from: 4, to: 5, n: 3 },
    ])
  })
})
