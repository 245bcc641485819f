import type { ColumnDefinitionBuilder } from 'kysely'

type SqlType = 'text' | 'timestamptz' | 'jsonb' | 'bytea' | 'blob' | 'double precision' | 'real' | 'bigint' | 'integer'

export type Dialect = 'sqlite' | 'postgres'

/** Column types where the dialects differ; migrations pick from here so both schemas read side by side. */
export function columnTypes(d: Dialect): Record<'time' | 'json' | 'bytes' | 'double' | 'int64', SqlType> {
  const pg = d === 'postgres'
  return {
    time: pg ? 'timestamptz' : 'text',
    json: pg ? 'jsonb' : 'text',
    bytes: pg ? 'bytea' : 'blob',
    // PostgreSQL's `real` is float4: a reading of 0.1 would come back as 0.10000000149. SQLite's REAL is a double.
    double: pg ? 'double precision' : 'real',
    // SQLite's INTEGER is already 64-bit; PostgreSQL's is 32.
    int64: pg ? 'bigint' : 'integer',
  }
}

/** An autoincrementing primary key. SQLite's AUTOINCREMENT never reuses an id, which quarantine pruning by max(id) relies on. */
export function autoId(d: Dialect): { type: SqlType; build: (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder } {
  return d === 'postgres'
    ? { type: 'bigint', build: (c) => c.primaryKey().generatedByDefaultAsIdentity() }
    : { type: 'integer', build: (c) => c.primaryKey().autoIncrement() }
}
