import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createHasher } from '../../registry/credentials.ts'
import { createAlertStore, type RaiseInput } from '../../store/alert-store.ts'
import { createCheckpointStore } from '../../store/checkpoint-store.ts'
import { migrateToLatest, openStore, type Store } from '../../store/db.ts'
import { createDeviceStore } from '../../store/device-store.ts'
import { createQuarantineStore } from '../../store/quarantine-store.ts'
import { type OpenedStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const tempDir = () => mkdtempSync(join(tmpdir(), 'sp-store-'))

const T0 = Date.parse('2026-03-01T10:00:00.000Z')
const iso = (ms: number) => new Date(ms).toISOString()
const fill = (deviceId: string, ts: number, value = 0.9): RaiseInput => ({
  deviceId,
  deviceType: 'bin',
  site: 'leeds',
  rule: { id: 'bin-full', title: 'Bin full', severity: 'warning' },
  value,
  ts,
})

describe.each(STORE_ADAPTERS)('store contract on %s', (_dialect, open) => {
  let store: Store
  let drop: OpenedStore['drop']
  let dataDir: string
  beforeEach(async () => {
    dataDir = tempDir()
    ;({ store, drop } = await open(dataDir))
    expect(await migrateToLatest(store)).toEqual([
      '0001-registry',
      '0002-alert-engine',
      '0003-alert-lifecycle',
      '0004-awaab-cases',
      '0005-rule-overrides',
      '0006-rounds',
      '0007-incidents',
      '0008-people',
      '0009-round-stops',
      '0010-open-data',
      '0011-tts',
      '0012-outbox',
      '0013-open311',
      '0014-notifications',
      '0015-reader-fences',
      '0016-one-open-incident',
    ])
  })
  afterEach(async () => {
    await store.close()
    await drop?.()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('applies nothing on a second migration run', async () => {
    expect(await migrateToLatest(store)).toEqual([])
    const tables = (await store.db.introspection.getTables()).map((t) => t.name)
    for (const t of ['devices', 'alerts', 'quarantine', 'secrets', 'alert_history', 'alert_state', 'reader_checkpoints']) {
      expect(tables).toContain(t)
    }
  })

  it('provisions, authenticates, refuses a duplicate and revokes', async () => {
    const devices = createDeviceStore(store.db, createHasher(randomBytes(32)))
    const input = { id: 'bin-1', type: 'bin', name: 'Bin 1', site: 'leeds', latitude: 53.800755123456, longitude: -1.549077 } as const
    const made = await devices.provision(input)
    if (!made.ok) throw new Error('provision failed')
    expect(made.device).toMatchObject({ id: 'bin-1', latitude: 53.800755123456, uprn: null, presence: 'unknown', lastSeen: null })
    expect(made.device.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(await devices.provision(input)).toEqual({ ok: false, code: 'CONFLICT' })
    expect((await devices.authenticate('bin-1', made.secret))?.id).toBe('bin-1')
    expect(await devices.authenticate('bin-1', 'wrong')).toBeNull()
    expect(await devices.authenticate('nope', made.secret)).toBeNull()

    await devices.setPresence('bin-1', 'online', new Date(T0))
    expect(await devices.get('bin-1')).toMatchObject({ presence: 'online', lastSeen: iso(T0) })
    expect((await devices.list({ site: 'leeds' })).map((d) => d.id)).toEqual(['bin-1'])
    expect(await devices.list({ type: 'boiler' })).toEqual([])

    expect(await devices.revoke('bin-1')).toBe(true)
    expect(await devices.revoke('bin-1')).toBe(false)
    expect(await devices.authenticate('bin-1', made.secret)).toBeNull()
    expect(await devices.get('bin-1')).toBeNull()
    // A revoked id stays reserved.
    expect(await devices.provision(input)).toEqual({ ok: false, code: 'CONFLICT' })
  })

  it('keeps quarantine within its count and age bounds', async () => {
    const quarantine = createQuarantineStore(store.db, 3, 3_600_000)
    const issues = [{ path: 'readings.fillingLevel', message: 'Too big: expected number to be <=1' }]
    const entry = { deviceId: 'bin-1', topic: 't', code: 'PAYLOAD_INVALID', reason: 'bad', issues }
    for (let i = 0; i < 5; i++) await quarantine.add({ ...entry, receivedAt: new Date(T0 + i * 60_000), payload: Buffer.from([i, 255]) })
    expect(await quarantine.count()).toBe(5)
    const [newest] = await quarantine.list({ code: 'PAYLOAD_INVALID', limit: 1 })
    expect(newest).toMatchObject({
      receivedAt: iso(T0 + 4 * 60_000),
      issues,
      payload: Buffer.from([4, 255]).toString('base64'),
      deviceType: null,
    })
    expect(typeof newest!.id).toBe('number')
    expect(await quarantine.list({ from: iso(T0 + 3 * 60_000), to: iso(T0 + 3 * 60_000) })).toHaveLength(1)
    expect(await quarantine.summary()).toEqual([{ deviceId: 'bin-1', code: 'PAYLOAD_INVALID', count: 5, lastAt: iso(T0 + 4 * 60_000) }])

    expect(await quarantine.prune(new Date(T0 + 10 * 60_000))).toBe(2)
    expect((await quarantine.list()).map((e) => e.payload)).toEqual([4, 3, 2].map((i) => Buffer.from([i, 255]).toString('base64')))
    // An hour later the age bound takes the rest.
    expect(await quarantine.prune(new Date(T0 + 3_600_000 + 3 * 60_000 + 1))).toBe(2)
    expect(await quarantine.count()).toBe(1)
  })

  it('raises once per (device, rule, time), clears, and records who acknowledged', async () => {
    const alerts = createAlertStore(store.db)
    const first = await alerts.raise(fill('bin-1', T0))
    expect(first).toMatchObject({ status: 'active', raisedAt: iso(T0), value: 0.9, acknowledgedBy: null })
    expect(await alerts.raise(fill('bin-1', T0))).toBeNull()
    expect(await alerts.list()).toHaveLength(1)

    expect(await alerts.acknowledge(first!.id, 'alice', new Date(T0 + 1000))).toMatchObject({
      status: 'acknowledged',
      acknowledgedBy: 'alice',
      acknowledgedAt: iso(T0 + 1000),
    })
    expect(await alerts.acknowledge(first!.id, 'bob', new Date(T0 + 2000))).toBe('not-open')
    expect(await alerts.acknowledge('missing', 'bob', new Date(T0))).toBeNull()

    const cleared = await alerts.clear({ deviceId: 'bin-1', ruleId: 'bin-full', at: T0 + 5000, value: 0.2 })
    expect(cleared).toMatchObject({ id: first!.id, status: 'cleared', clearedAt: iso(T0 + 5000) })
    expect(await alerts.clear({ deviceId: 'bin-1', ruleId: 'bin-full', at: T0 + 6000 })).toBeNull()
    expect(await alerts.open()).toEqual([])
    expect(await alerts.list({ status: 'cleared', site: 'leeds' })).toHaveLength(1)

    const entry = (action: string, at: number, actor: string, value: number | null, from: string | null, to: string) => ({
      ...{ alertId: first!.id, deviceId: 'bin-1', ruleId: 'bin-full' },
      ...{ action, at: iso(at), actor, value, from, to, note: null, assignedTo: null, snoozedUntil: null, detail: null },
    })
    expect(await alerts.history({ alertId: first!.id })).toEqual([
      entry('raised', T0, 'system', 0.9, null, 'active'),
      entry('acknowledged', T0 + 1000, 'alice', null, 'active', 'acknowledged'),
      entry('cleared', T0 + 5000, 'system', 0.2, 'acknowledged', 'cleared'),
    ])
  })

  it('commits a batch of alerts, states and checkpoint together', async () => {
    const alerts = createAlertStore(store.db)
    const state = JSON.stringify({ rules: [{ active: true, count: 0 }], lastTs: T0, offline: false })
    const batch = {
      reader: 'alerts',
      checkpoint: { segment: 3, offset: 2 ** 40 },
      states: [
        ['bin-1', '{}'],
        ['bin-1', state],
        ['bin-2', '{"rules":[]}'],
      ] as [string, string][],
      // Given out of order: the clear of bin-2 happened after its raise.
      raise: [fill('bin-1', T0 + 10), fill('bin-2', T0)],
      clear: [{ deviceId: 'bin-2', ruleId: 'bin-full', at: T0 + 5 }],
    }
    const changes = await alerts.commitBatch(batch)
    expect(changes.map((c) => [c.action, c.alert.deviceId])).toEqual([
      ['raised', 'bin-2'],
      ['cleared', 'bin-2'],
      ['raised', 'bin-1'],
    ])
    const engine = await alerts.loadEngine('alerts')
    expect(engine.checkpoint).toEqual({ segment: 3, offset: 2 ** 40 })
    expect(engine.states.get('bin-1')).toBe(state)
    expect(engine.states.size).toBe(2)
    // Replayed after a crash: nothing raises twice.
    expect(await alerts.commitBatch(batch)).toEqual([])
    expect(await alerts.list()).toHaveLength(2)
    expect(await alerts.loadEngine('other')).toMatchObject({ checkpoint: null })
  })

  it('rolls back alerts, history, states and checkpoint when one row fails', async () => {
    const alerts = createAlertStore(store.db)
    await alerts.commitBatch({
      reader: 'alerts',
      checkpoint: { segment: 1, offset: 10 },
      states: [['bin-1', '"old"']],
      raise: [],
      clear: [],
    })
    const bad = {
      reader: 'alerts',
      // The checkpoint is written last, so by the time its NULL fails the alert, history and states are in: all must go.
      checkpoint: { segment: null as unknown as number, offset: 99 },
      states: [['bin-1', '"new"']] as [string, string][],
      raise: [fill('bin-1', T0)],
      clear: [],
    }
    await expect(alerts.commitBatch(bad)).rejects.toThrow()
    expect(await alerts.list()).toEqual([])
    expect(await store.db.selectFrom('alert_history').selectAll().execute()).toEqual([])
    const engine = await alerts.loadEngine('alerts')
    expect(engine).toEqual({ checkpoint: { segment: 1, offset: 10 }, states: new Map([['bin-1', '"old"']]) })
  })

  it('gets and sets a reader checkpoint', async () => {
    const checkpoints = createCheckpointStore(store.db)
    expect(await checkpoints.get('drainer')).toBeNull()
    await checkpoints.set('drainer', { segment: 7, offset: 123 })
    await checkpoints.set('drainer', { segment: 8, offset: 0 })
    expect(await checkpoints.get('drainer')).toEqual({ segment: 8, offset: 0 })
  })

  it('returns the same JS types on both dialects', async () => {
    const alerts = createAlertStore(store.db)
    const a = await alerts.raise({ ...fill('bin-9', 1_767_225_600_123), value: 0.1 + 0.2 })
    // A double survives (PostgreSQL `real` would not), epoch ms beyond 2^31 comes back as a number, times as ISO text.
    expect(await alerts.get(a!.id)).toEqual({ ...a, value: 0.30000000000000004, raisedAt: '2026-01-01T00:00:00.123Z' })
    const row = await store.db.selectFrom('alerts').select(['raised_ts', 'value']).executeTakeFirstOrThrow()
    expect(row).toEqual({ raised_ts: 1_767_225_600_123, value: 0.30000000000000004 })
    const n = await store.db
      .selectFrom('alerts')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
    // pg hands int8 and count(*) over as strings unless the pool's type parser says otherwise.
    expect([typeof n.n, typeof (await createQuarantineStore(store.db).count())]).toEqual(['number', 'number'])
    const json = JSON.stringify({ on: true, off: false, nested: [1, 'two', null] })
    await alerts.commitBatch({ reader: 'r', checkpoint: { segment: 0, offset: 0 }, states: [['d', json]], raise: [], clear: [] })
    expect((await alerts.loadEngine('r')).states.get('d')).toBe(json)
  })
})

describe('store upgrade', () => {
  it('SQLite: adopts the registry.sqlite of earlier releases (better-sqlite3, user_version 1)', async () => {
    const legacyDir = tempDir()
    const legacy = new SQLite(join(legacyDir, 'registry.sqlite'))
    legacy.exec(LEGACY_V1)
    legacy.pragma('user_version = 1')
    legacy.prepare("INSERT INTO secrets (name, value) VALUES ('admin_token', x'00')").run()
    legacy.close()
    const adopted = openStore({ dataDir: legacyDir })
    expect(await migrateToLatest(adopted)).toEqual([
      '0001-registry',
      '0002-alert-engine',
      '0003-alert-lifecycle',
      '0004-awaab-cases',
      '0005-rule-overrides',
      '0006-rounds',
      '0007-incidents',
      '0008-people',
      '0009-round-stops',
      '0010-open-data',
      '0011-tts',
      '0012-outbox',
      '0013-open311',
      '0014-notifications',
      '0015-reader-fences',
      '0016-one-open-incident',
    ])
    expect(await adopted.db.selectFrom('secrets').select('name').execute()).toEqual([{ name: 'admin_token' }])
    await adopted.close()
    rmSync(legacyDir, { recursive: true, force: true })
  })
})

// The schema earlier releases created with better-sqlite3 (registry/db.ts, user_version 1), verbatim.
const LEGACY_V1 = `CREATE TABLE devices (
     id TEXT PRIMARY KEY,
     type TEXT NOT NULL,
     name TEXT NOT NULL,
     site TEXT NOT NULL,
     latitude REAL,
     longitude REAL,
     uprn TEXT,
     interval_s INTEGER NOT NULL,
     secret_hmac BLOB NOT NULL,
     created_at TEXT NOT NULL,
     revoked_at TEXT,
     presence TEXT NOT NULL DEFAULT 'unknown',
     last_seen TEXT
   );
   CREATE TABLE alerts (
     id TEXT PRIMARY KEY,
     device_id TEXT NOT NULL,
     device_type TEXT NOT NULL,
     site TEXT NOT NULL,
     rule_id TEXT NOT NULL,
     title TEXT NOT NULL,
     severity TEXT NOT NULL,
     status TEXT NOT NULL,
     value REAL NOT NULL,
     raised_ts INTEGER NOT NULL,
     acknowledged_at TEXT,
     acknowledged_by TEXT,
     cleared_at TEXT,
     UNIQUE (device_id, rule_id, raised_ts)
   );
   CREATE INDEX alerts_open ON alerts (status) WHERE status != 'cleared';
   CREATE TABLE quarantine (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     received_at TEXT NOT NULL,
     device_id TEXT,
     topic TEXT NOT NULL,
     code TEXT NOT NULL,
     reason TEXT NOT NULL,
     issues TEXT NOT NULL,
     payload BLOB NOT NULL
   );
   CREATE INDEX quarantine_device ON quarantine (device_id, id);
   CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);`
