import type { Logger } from 'pino'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { Rule } from '#devices'
import { createRuleBook, type OverrideChange } from '../../alerts/rule-book.ts'
import { RuleOverride, type RuleOverrideInput } from '../../devices/rules/overrides.ts'
import { migrateToLatest, type Store } from '../../store/db.ts'
import { createOverrideStore, type OverrideStore } from '../../store/override-store.ts'
import { binFireRise, binFull, boilerNoHeat } from '../devices/rules/examples.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const T0 = Date.parse('2026-03-01T10:00:00.000Z')
const iso = (ms: number) => new Date(ms).toISOString()
const ov = (o: RuleOverrideInput) => RuleOverride.parse(o)
const binFullLow = ov({
  scope: 'device',
  target: 'bin-1',
  ruleId: 'bin-full',
  params: { raiseAt: 0.5, clearAt: 0.3, escalation: { afterS: 3600, to: 'critical' } },
  note: 'beside the school',
})

const bins: readonly Rule[] = [binFull, binFireRise]
const boilers: readonly Rule[] = [boilerNoHeat]
const catalogue = (type: string): readonly Rule[] => (type === 'bin' ? bins : type === 'boiler' ? boilers : [])
const bin1 = { id: 'bin-1', type: 'bin', site: 'leeds' }
const bin2 = { id: 'bin-2', type: 'bin', site: 'leeds' }
const bin3 = { id: 'bin-3', type: 'bin', site: 'york' }
const boiler = { id: 'boiler-1', type: 'boiler', site: 'leeds' }
const threshold = (rules: readonly Rule[], id: string) => rules.find((r) => r.id === id) as Extract<Rule, { kind: 'threshold' }> | undefined

describe.each(STORE_ADAPTERS)('rule overrides on %s', (_dialect, open) => {
  const fresh = freshStore(open, 'sp-overrides-')
  let store: Store
  let overrides: OverrideStore
  beforeEach(async () => {
    store = fresh.store
    expect(fresh.migrated).toContain('0005-rule-overrides')
    overrides = createOverrideStore(store.db)
  })

  it('creates its tables once', async () => {
    expect(await migrateToLatest(store)).toEqual([])
    const tables = (await store.db.introspection.getTables()).map((t) => t.name)
    expect(tables).toEqual(expect.arrayContaining(['rule_overrides', 'rule_override_history']))
  })

  it('sets, reads back exactly and filters', async () => {
    const { override, before } = await overrides.set(binFullLow, 'alice', new Date(T0))
    expect(before).toBeNull()
    expect(override).toEqual({ ...binFullLow, updatedBy: 'alice', updatedAt: iso(T0) })
    await overrides.set(ov({ scope: 'site', target: 'leeds', ruleId: 'bin-fire', disabled: true }), 'bob', new Date(T0 + 1000))

    expect(await overrides.get({ scope: 'device', target: 'bin-1', ruleId: 'bin-full' })).toEqual(override)
    expect(await overrides.get({ scope: 'site', target: 'bin-1', ruleId: 'bin-full' })).toBeNull()
    expect(await overrides.get({ scope: 'site', target: 'leeds', ruleId: 'bin-fire' })).toEqual({
      scope: 'site',
      target: 'leeds',
      ruleId: 'bin-fire',
      params: {},
      disabled: true,
      updatedBy: 'bob',
      updatedAt: iso(T0 + 1000),
    })
    expect((await overrides.list()).map((o) => o.ruleId)).toEqual(['bin-full', 'bin-fire'])
    expect((await overrides.list({ scope: 'site' })).map((o) => o.target)).toEqual(['leeds'])
    expect((await overrides.list({ target: 'bin-1', ruleId: 'bin-full' })).map((o) => o.updatedBy)).toEqual(['alice'])
    expect(await overrides.list({ ruleId: 'bin-knocked-over' })).toEqual([])
  })

  it('replaces on a second set and records who changed what, before and after, newest first', async () => {
    await overrides.set(binFullLow, 'alice', new Date(T0))
    const second = ov({ scope: 'device', target: 'bin-1', ruleId: 'bin-full', params: { raiseAt: 0.6, clearAt: 0.3 }, disabled: true })
    const r = await overrides.set(second, 'bob', new Date(T0 + 60_000))
    expect(r.before).toMatchObject({ params: binFullLow.params, updatedBy: 'alice' })
    expect(r.override).toEqual({ ...second, updatedBy: 'bob', updatedAt: iso(T0 + 60_000) })
    // Replaced whole: the first note does not linger.
    expect(r.override.note).toBeUndefined()
    expect(await overrides.list()).toHaveLength(1)

    expect(
      await overrides.remove(
        { scope: 'device', target: 'bin-1', ruleId: 'bin-full' },
        'carol',
        'emptied daily now',
        new Date(T0 + 120_000),
      ),
    ).toEqual(r.override)
    expect(await overrides.remove({ scope: 'device', target: 'bin-1', ruleId: 'bin-full' }, 'carol')).toBeNull()
    expect(await overrides.list()).toEqual([])

    const key = { scope: 'device', target: 'bin-1', ruleId: 'bin-full' } as const
    const history = await overrides.history({ target: 'bin-1' })
    expect(history).toEqual([
      {
        ...key,
        id: expect.any(Number),
        at: iso(T0 + 120_000),
        actor: 'carol',
        action: 'removed',
        before: { params: second.params, disabled: true },
        after: null,
        note: 'emptied daily now',
      },
      {
        ...key,
        id: expect.any(Number),
        at: iso(T0 + 60_000),
        actor: 'bob',
        action: 'set',
        before: { params: binFullLow.params, disabled: false },
        after: { params: second.params, disabled: true },
        note: null,
      },
      {
        ...key,
        id: expect.any(Number),
        at: iso(T0),
        actor: 'alice',
        action: 'set',
        before: null,
        after: { params: binFullLow.params, disabled: false },
        note: 'beside the school',
      },
    ])
    expect(await overrides.history({ target: 'bin-1', limit: 1 })).toEqual([history[0]])
    expect(await overrides.history({ ruleId: 'bin-fire' })).toEqual([])
  })

  it('tells listeners after each committed set and remove, until they unsubscribe', async () => {
    const seen: OverrideChange[] = []
    const stop = overrides.onChange((c) => seen.push(c))
    await overrides.set(binFullLow, 'alice')
    await overrides.remove({ scope: 'device', target: 'bin-1', ruleId: 'bin-full' }, 'alice')
    // Nothing was removed, so nothing changed.
    await overrides.remove({ scope: 'device', target: 'bin-1', ruleId: 'bin-full' }, 'alice')
    expect(seen).toEqual([
      { scope: 'device', target: 'bin-1', ruleId: 'bin-full', override: expect.objectContaining({ params: binFullLow.params }) },
      { scope: 'device', target: 'bin-1', ruleId: 'bin-full', override: null },
    ])
    stop()
    await overrides.set(binFullLow, 'alice')
    expect(seen).toHaveLength(2)
  })

  describe('the rule book over the store', () => {
    const log = () => ({ warn: vi.fn(), info: vi.fn() })

    it('answers with the catalogue’s own arrays until an override touches a device or its site', async () => {
      const book = createRuleBook({ overrides, catalogue })
      await book.start()
      expect(book.rulesFor(bin1)).toBe(bins)
      expect(book.rulesFor(boiler)).toBe(boilers)

      await overrides.set(binFullLow, 'alice')
      // No reload: the store's change hook reached the book before set() returned.
      const mine = book.rulesFor(bin1)
      expect(threshold(mine, 'bin-full')).toMatchObject({ raiseAt: 0.5, clearAt: 0.3, escalation: { afterS: 3600, to: 'critical' } })
      expect(mine[1]).toBe(binFireRise)
      expect(book.rulesFor(bin1)).toBe(mine)
      expect(book.rulesFor(bin2)).toBe(bins)
      expect(book.rulesFor(boiler)).toBe(boilers)
      book.close()
    })

    it('applies site overrides to the site’s devices only, device overrides over them, and drops disabled rules', async () => {
      const book = createRuleBook({ overrides, catalogue })
      await book.start()
      await overrides.set(ov({ scope: 'site', target: 'leeds', ruleId: 'bin-full', params: { raiseAt: 0.8 } }), 'alice')
      await overrides.set(ov({ scope: 'site', target: 'leeds', ruleId: 'bin-fire', disabled: true }), 'alice')
      await overrides.set(ov({ scope: 'device', target: 'bin-1', ruleId: 'bin-full', params: { clearAt: 0.2 } }), 'alice')

      expect(book.rulesFor(bin1).map((r) => r.id)).toEqual(['bin-full'])
      expect(threshold(book.rulesFor(bin1), 'bin-full')).toMatchObject({ raiseAt: 0.8, clearAt: 0.2 })
      expect(threshold(book.rulesFor(bin2), 'bin-full')).toMatchObject({ raiseAt: 0.8, clearAt: 0.7 })
      expect(book.rulesFor(bin2).map((r) => r.id)).toEqual(['bin-full'])
      // Devices of one site and type share one merged array.
      expect(book.rulesFor({ ...bin2, id: 'bin-9' })).toBe(book.rulesFor(bin2))
      expect(book.rulesFor(bin3)).toBe(bins)
      // The site's overrides are for bins: its boiler keeps the catalogue array itself.
      expect(book.rulesFor(boiler)).toBe(boilers)

      await overrides.remove({ scope: 'site', target: 'leeds', ruleId: 'bin-fire' }, 'alice')
      await overrides.remove({ scope: 'site', target: 'leeds', ruleId: 'bin-full' }, 'alice')
      expect(book.rulesFor(bin2)).toBe(bins)
      expect(threshold(book.rulesFor(bin1), 'bin-full')).toMatchObject({ raiseAt: 0.95, clearAt: 0.2 })
      await overrides.remove({ scope: 'device', target: 'bin-1', ruleId: 'bin-full' }, 'alice')
      expect(book.rulesFor(bin1)).toBe(bins)
      book.close()
    })

    it('loads what was stored before it started, and sees another writer’s changes on reload', async () => {
      await overrides.set(binFullLow, 'alice')
      const book = createRuleBook({ overrides, catalogue })
      await book.start()
      expect(threshold(book.rulesFor(bin1), 'bin-full')).toMatchObject({ raiseAt: 0.5 })

      // Another process (the CLI, another node) writes through its own store: no hook reaches this book.
      const elsewhere = createOverrideStore(store.db)
      await elsewhere.set(ov({ scope: 'device', target: 'bin-2', ruleId: 'bin-fire', disabled: true }), 'bob')
      expect(book.rulesFor(bin2)).toBe(bins)
      await book.reload()
      expect(book.rulesFor(bin2).map((r) => r.id)).toEqual(['bin-full'])

      book.close()
      await overrides.remove({ scope: 'device', target: 'bin-1', ruleId: 'bin-full' }, 'alice')
      // Closed: unsubscribed, and holding nothing.
      expect(book.rulesFor(bin1)).toBe(bins)
    })

    it('keeps a change made while it loads', async () => {
      let taken!: () => void
      const snapshotTaken = new Promise<void>((r) => {
        taken = r
      })
      let release!: () => void
      const gate = new Promise<void>((r) => {
        release = r
      })
      // The snapshot is read before the set below, and handed over after it.
      const slow = {
        list: async () => {
          const snapshot = await overrides.list()
          taken()
          await gate
          return snapshot
        },
        onChange: overrides.onChange,
      }
      const book = createRuleBook({ overrides: slow, catalogue })
      const started = book.start()
      await snapshotTaken
      await overrides.set(binFullLow, 'alice')
      release()
      await started
      expect(threshold(book.rulesFor(bin1), 'bin-full')).toMatchObject({ raiseAt: 0.5 })
      book.close()
    })

    it('keeps a rule at the catalogue’s parameters when a stored override no longer fits, and logs it', async () => {
      const warn = log()
      // The store does not know rules; an override valid for yesterday's catalogue can be stale today.
      await overrides.set(ov({ scope: 'device', target: 'bin-1', ruleId: 'bin-full', params: { clearAt: 0.99 } }), 'alice')
      const book = createRuleBook({ overrides, catalogue, log: warn as unknown as Logger })
      await book.start()
      expect(book.rulesFor(bin1)).toBe(bins)
      expect(warn.warn).toHaveBeenCalledWith(
        expect.objectContaining({ deviceId: 'bin-1', rejected: [expect.objectContaining({ scope: 'device', ruleId: 'bin-full' })] }),
        expect.any(String),
      )
      book.close()
    })
  })
})
