import type { Kysely, Migration } from 'kysely'
import { columnTypes, type Dialect } from '../dialect.ts'

/**
 * Cluster mode (issue 15): which owner of a log partition may commit a reader's effects. The lease
 * revision a node took the partition with is its epoch; a node that lost the partition but has not
 * noticed yet commits under an older one and is refused.
 */
export function readerFences(d: Dialect): Migration {
  const t = columnTypes(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('reader_fences')
        .ifNotExists()
        .addColumn('reader', 'text', (c) => c.primaryKey())
        .addColumn('epoch', t.int64, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .execute()
    },
  }
}
