import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, inject } from 'vitest'
import { createDatabase } from '../../scripts/postgres.ts'
import { migrateToLatest, openStore, type Store } from '../../store/db.ts'

export interface OpenedStore {
  store: Store
  drop?: () => Promise<void>
}
export type OpenStore = (dataDir: string) => Promise<OpenedStore>

/** Store suites run on both dialects: `describe.each(STORE_ADAPTERS)`. */
export const STORE_ADAPTERS: [string, OpenStore][] = [
  ['sqlite', async (dataDir) => ({ store: openStore({ dataDir }) })],
  [
    'postgres',
    async (dataDir) => {
      // A database per test: tests running in parallel never see each other's rows.
      const database = await createDatabase(inject('postgresUrl'))
      return { store: openStore({ dataDir, databaseUrl: database.url }), drop: database.drop }
    },
  ],
]

/**
 * For each test: a temporary data folder, a store opened on it and migrated (`migrated` is what
 * the migration applied); closed, dropped and removed after the test. Call inside the describe.
 */
export function freshStore(open: OpenStore, prefix: string): { store: Store; dataDir: string; migrated: string[] } {
  const s = {} as { store: Store; dataDir: string; migrated: string[]; drop?: (() => Promise<void>) | undefined }
  beforeEach(async () => {
    s.dataDir = mkdtempSync(join(tmpdir(), prefix))
    const opened = await open(s.dataDir)
    s.store = opened.store
    s.drop = opened.drop
    s.migrated = await migrateToLatest(s.store)
  })
  afterEach(async () => {
    await s.store.close()
    await s.drop?.()
    rmSync(s.dataDir, { recursive: true, force: true })
  })
  return s
}
