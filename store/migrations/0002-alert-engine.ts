import type { Kysely, Migration } from 'kysely'
import { autoId, columnTypes, type Dialect } from '../dialect.ts'

/** What the durable alert engine needs: an audit trail of alerts, its per-device rule state, and where it is in the spool. */
export function alertEngine(d: Dialect): Migration {
  const t = columnTypes(d)
  const id = autoId(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('alert_history')
        .ifNotExists()
        .addColumn('id', id.type, id.build)
        .addColumn('alert_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('rule_id', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('at', t.time, (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('value', t.double)
        .execute()
      await db.schema.createIndex('alert_history_alert').ifNotExists().on('alert_history').columns(['alert_id', 'id']).execute()
      await db.schema.createIndex('alert_history_device').ifNotExists().on('alert_history').columns(['device_id', 'at']).execute()

      await db.schema
        .createTable('alert_state')
        .ifNotExists()
        // NOT NULL spelled out: SQLite lets a non-integer primary key hold NULL.
        .addColumn('device_id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('reader_checkpoints')
        .ifNotExists()
        .addColumn('reader', 'text', (c) => c.primaryKey().notNull())
        .addColumn('segment', t.int64, (c) => c.notNull())
        .addColumn('offset', t.int64, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .execute()
    },
  }
}
