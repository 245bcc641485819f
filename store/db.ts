import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import type { Dialect } from './dialect.ts'
import { migrationProvider } from './migrations/index.ts'
import type { Database } from './schema.ts'
import { readSecretFile } from './secret-file.ts'
import { withStatementCache } from './statement-cache.ts'

export type { Dialect } from './dialect.ts'
export type { Database } from './schema.ts'

export interface Store {
  db: Kysely<Database>
  dialect: Dialect
  /** Ends the pool or closes the SQLite file. */
  close(): Promise<void>
}

export interface StoreOptions {
  /** SQLite lives in DATA_DIR/registry.sqlite, the file registry/db.ts used, so an existing registry is adopted. */
  dataDir: string
  /** postgres://… or postgresql://… selects PostgreSQL; unset means SQLite. */
  databaseUrl?: string | undefined
  /** A pooled PostgreSQL connection that dies while idle is reported here instead of crashing the process. */
  onPoolError?: (err: Error) => void
  /** PostgreSQL: a file holding the password (DATABASE_PASSWORD_FILE), for a DATABASE_URL without one. */
  passwordFile?: string | undefined
  /** PostgreSQL: the most connections the pool opens (pg's default, 10, when unset). */
  poolMax?: number | undefined
}

const INT8 = 20
const TIMESTAMPTZ = 1184

/**
 * Makes PostgreSQL return what SQLite returns: int8 (ids, epoch ms, count(*)) as a
 * number rather than a string, and timestamptz as ISO text rather than a Date.
 * Per pool, not pg.types.setTypeParser, so other pg users in the process are untouched.
 */
function getTypeParser(oid: number, format?: 'text' | 'binary') {
  if (oid === INT8) return (v: string) => Number(v)
  if (oid === TIMESTAMPTZ) {
    const toDate = pg.types.getTypeParser(TIMESTAMPTZ, 'text') as (v: string) => Date
    return (v: string) => toDate(v).toISOString()
  }
  return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text')
}

export function openStore(opts: StoreOptions): Store {
  const url = opts.databaseUrl?.trim()
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url))
      throw new Error('DATABASE_URL must start with postgres:// or postgresql:// (leave it unset for SQLite)')
    // In the URL: pg lets what a connection string holds override the pool's own fields, a missing password too.
    // The password as the file holds it, less a final newline; a file that cannot be read stops the start, saying which.
    const withPassword = opts.passwordFile ? new URL(url) : null
    if (withPassword)
      withPassword.password = encodeURIComponent(readSecretFile('DATABASE_PASSWORD_FILE', opts.passwordFile!).replace(/\r?\n$/, ''))
    const pool = new pg.Pool({
      connectionString: withPassword?.href ?? url,
      types: { getTypeParser } as pg.CustomTypesConfig,
      ...(opts.poolMax ? { max: opts.poolMax } : {}),
    })
    pool.on('error', opts.onPoolError ?? ((err) => console.error(`postgres pool: ${err.message}`)))
    // A connection that dies while checked out (the server ended the session) emits on its client, where pg
    // has no listener then: that would throw. Its query fails with the error anyway; the listener only reports it.
    pool.on('connect', (client) => client.on('error', opts.onPoolError ?? ((err) => console.error(`postgres connection: ${err.message}`))))
    return wrap(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres')
  }
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 })
  const sqlite = new SQLite(join(opts.dataDir, 'registry.sqlite'))
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  // The devices CLI may write while the service runs: wait for its lock instead of failing with SQLITE_BUSY.
  sqlite.pragma('busy_timeout = 5000')
  return wrap(new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) }), 'sqlite')
}

function wrap(db: Kysely<Database>, dialect: Dialect): Store {
  return { db, dialect, close: () => db.destroy() }
}

/** Applies pending migrations; returns the names applied (none on a second run). Throws when one fails. */
export async function migrateToLatest(store: Store): Promise<string[]> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) })
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'migrations'
    throw new Error(`${store.dialect} ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName)
}
