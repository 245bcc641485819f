import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { migrateToLatest, type Store } from '../../store/db.ts'
import { createOpenDataStore, type OpenDataStore } from '../../store/open-data-store.ts'
import { type OpenedStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const T0 = new Date('2026-03-02T07:05:00.000Z')
const T1 = new Date('2026-03-02T09:30:00.000Z')

describe.each(STORE_ADAPTERS)('open data store on %s', (_dialect, open) => {
  let store: Store
  let drop: OpenedStore['drop']
  let dataDir: string
  let openData: OpenDataStore
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sp-open-data-'))
    ;({ store, drop } = await open(dataDir))
    expect(await migrateToLatest(store)).toContain('0010-open-data')
    openData = createOpenDataStore(store.db)
  })
  afterEach(async () => {
    await store.close()
    await drop?.()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('starts with nothing published: no dataset has a switch until someone sets it', async () => {
    expect(await openData.list()).toEqual([])
  })

  it('publishes and withdraws a dataset, keeping who changed it last and when', async () => {
    expect(await openData.set('bin-fill-latest', true, 'alice', T0)).toEqual({
      id: 'bin-fill-latest',
      published: true,
      changedAt: T0.toISOString(),
      changedBy: 'alice',
    })
    await openData.set('energy-daily', true, 'alice', T0)
    expect(await openData.list()).toEqual([
      { id: 'bin-fill-latest', published: true, changedAt: T0.toISOString(), changedBy: 'alice' },
      { id: 'energy-daily', published: true, changedAt: T0.toISOString(), changedBy: 'alice' },
    ])

    await openData.set('bin-fill-latest', false, 'bob', T1)
    const after = await openData.list()
    expect(after).toHaveLength(2)
    expect(after.find((s) => s.id === 'bin-fill-latest')).toEqual({
      id: 'bin-fill-latest',
      published: false,
      changedAt: T1.toISOString(),
      changedBy: 'bob',
    })
    expect(after.find((s) => s.id === 'energy-daily')?.published).toBe(true)
  })
})
