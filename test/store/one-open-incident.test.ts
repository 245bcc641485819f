import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Migrator } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { migrateToLatest, type Store } from '../../store/db.ts'
import { migrationProvider } from '../../store/migrations/index.ts'
import { type OpenedStore, STORE_ADAPTERS } from '../helpers/stores.ts'

// Migration 0016: a cluster before it could open two incidents of one site (one per partition's engine).
describe.each(STORE_ADAPTERS)('one open incident per site, on %s', (_dialect, open) => {
  let store: Store | undefined
  let drop: OpenedStore['drop']
  let dataDir = ''
  afterEach(async () => {
    await store?.close()
    await drop?.()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('merges the open incidents of a site into the first opened, with their alerts, counts them again, then refuses a second', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sp-one-open-'))
    ;({ store, drop } = await open(dataDir))
    const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) })
    expect((await migrator.migrateTo('0015-reader-fences')).error).toBeUndefined()
    const incident = (id: string, site: string, at: string, status: 'open' | 'cleared' = 'open') => ({
      id,
      site,
      kind: 'site-silent' as const,
      title: 't',
      status,
      opened_at: at,
      cleared_at: status === 'open' ? null : at,
      devices: 1,
      silent: 1,
    })
    await store.db
      .insertInto('incidents')
      .values([
        incident('old', 'north-street', '2026-11-30T08:00:00.000Z'),
        incident('new', 'north-street', '2026-11-30T08:00:01.000Z'),
        incident('done', 'north-street', '2026-11-29T08:00:00.000Z', 'cleared'),
        incident('lane', 'mill-lane', '2026-11-30T08:00:00.000Z'),
      ])
      .execute()
    const alert = (id: string, deviceId: string, incidentId: string) => ({
      id,
      device_id: deviceId,
      device_type: 'bin',
      site: 'north-street',
      rule_id: 'device-offline',
      severity: 'warning' as const,
      title: 'Offline',
      status: 'active' as const,
      value: 3600,
      raised_ts: Date.parse('2026-11-30T08:00:00.000Z'),
      incident_id: incidentId,
    })
    // Only the columns every row needs; the others are nullable.
    for (const a of [alert('a1', 'bin-1', 'old'), alert('a2', 'bin-2', 'new')]) await store.db.insertInto('alerts').values(a).execute()
    expect(await migrateToLatest(store)).toEqual(['0016-one-open-incident'])

    const rows = await store.db.selectFrom('incidents').select(['id', 'status']).orderBy('id').execute()
    expect(rows).toEqual([
      { id: 'done', status: 'cleared' },
      { id: 'lane', status: 'open' },
      { id: 'old', status: 'open' },
    ])
    const grouped = await store.db.selectFrom('alerts').select(['id', 'incident_id']).orderBy('id').execute()
    expect(grouped).toEqual([
      { id: 'a1', incident_id: 'old' },
      { id: 'a2', incident_id: 'old' },
    ])
    // Two devices under it now, both silent; an incident with nothing merged into it is left as it was.
    const counts = await store.db
      .selectFrom('incidents')
      .select(['id', 'devices', 'silent'])
      .where('id', 'in', ['old', 'lane'])
      .orderBy('id')
      .execute()
    expect(counts.map((c) => [c.id, Number(c.devices), Number(c.silent)])).toEqual([
      ['lane', 1, 1],
      ['old', 2, 2],
    ])
    await expect(
      store.db
        .insertInto('incidents')
        .values(incident('again', 'north-street', '2026-11-30T09:00:00.000Z'))
        .execute(),
    ).rejects.toThrow()
    // A cleared one beside the open one is fine.
    await store.db
      .insertInto('incidents')
      .values(incident('past', 'north-street', '2026-11-28T09:00:00.000Z', 'cleared'))
      .execute()
  })
})
