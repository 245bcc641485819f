import type { Kysely, Migration } from 'kysely'
import { columnTypes, type Dialect } from '../dialect.ts'

/**
 * Which open datasets an administrator has published (issue 13). A dataset with no row is
 * off: nothing is public until someone switches it on, and who did it when is kept here
 * beside the audit log's entry.
 */
export function openData(d: Dialect): Migration {
  const t = columnTypes(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('open_datasets')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        // 0 or 1 on both dialects: SQLite has no boolean to bind.
        .addColumn('published', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('changed_at', t.time, (c) => c.notNull())
        .addColumn('changed_by', 'text', (c) => c.notNull())
        .execute()
    },
  }
}
