import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Migrator } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { createHasher } from '../../registry/credentials.ts'
import { migrateToLatest, type Store } from '../../store/db.ts'
import { createDeviceStore } from '../../store/device-store.ts'
import { migrationProvider } from '../../store/migrations/index.ts'
import { createRoundStore } from '../../store/round-store.ts'
import { type OpenedStore, STORE_ADAPTERS } from '../helpers/stores.ts'

describe.each(STORE_ADAPTERS)('migration 0009 (round stops) on %s', (_dialect, open) => {
  let store: Store
  let drop: OpenedStore['drop']
  let dataDir: string
  afterEach(async () => {
    await store.close()
    await drop?.()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('numbers the bins of rounds made before it in their old order (by id), each round from its first stop, and keeps them', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sp-stops-'))
    ;({ store, drop } = await open(dataDir))
    const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) })
    const before = await migrator.migrateTo('0008-people')
    expect(before.error).toBeUndefined()
    const devices = createDeviceStore(store.db, createHasher(randomBytes(32)))
    for (const id of ['b-3', 'b-1', 'b-2', 'c-2', 'c-1'])
      expect((await devices.provision({ id, type: 'bin', name: id, site: 's' })).ok).toBe(true)
    const at = new Date().toISOString()
    const schedule = JSON.stringify({ weekdays: [1] })
    // biome-ignore lint/suspicious/noExplicitAny: the tables as they were before 0009, not as Database types them now
    const db = store.db as any
    for (const id of ['east', 'west'])
      await db
        .insertInto('rounds')
        .values({ id, name: id, site: null, schedule, created_at: at, created_by: 'a', updated_at: at, updated_by: 'a' })
        .execute()
    for (const [device_id, round_id] of [
      ['b-3', 'east'],
      ['b-1', 'east'],
      ['b-2', 'east'],
      ['c-2', 'west'],
      ['c-1', 'west'],
    ])
      await db.insertInto('round_bins').values({ device_id, round_id }).execute()

    expect(await migrateToLatest(store)).toContain('0009-round-stops')
    const rounds = createRoundStore(store.db)
    expect((await rounds.getRound('east'))!.deviceIds).toEqual(['b-1', 'b-2', 'b-3'])
    expect((await rounds.getRound('west'))!.deviceIds).toEqual(['c-1', 'c-2'])
    // From now on the order given is kept.
    await rounds.setRoundBins('east', ['b-3', 'b-1', 'b-2'], 'a')
    expect((await rounds.getRound('east'))!.deviceIds).toEqual(['b-3', 'b-1', 'b-2'])
  })
})
