import { type Kysely, type Migration, sql } from 'kysely'
import { autoId, columnTypes, type Dialect } from '../dialect.ts'

/** Awaab's Law cases and their evidence trail (issue 9). Deadlines are not stored: they are computed when asked. */
export function awaabCases(d: Dialect): Migration {
  const t = columnTypes(d)
  const id = autoId(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('cases')
        .ifNotExists()
        // NOT NULL spelled out: SQLite lets a non-integer primary key hold NULL.
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        // No foreign keys to alerts or devices: a case is a legal record and outlives both.
        .addColumn('alert_id', 'text')
        .addColumn('device_id', 'text')
        .addColumn('site', 'text')
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('hazard', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('triaged_at', t.time, (c) => c.notNull())
        // 0/1 rather than boolean: SQLite has none and better-sqlite3 cannot bind one.
        .addColumn('preventative_required', 'integer', (c) => c.notNull())
        .addColumn('hazard_found', 'integer')
        .addColumn('investigated_at', t.time)
        .addColumn('summary_sent_at', t.time)
        .addColumn('made_safe_at', t.time)
        .addColumn('preventative_begun_at', t.time)
        .addColumn('preventative_on_site_at', t.time)
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        // Optimistic concurrency: two people updating one case on PostgreSQL must not lose a step.
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute()
      // One open case per alert, kept by the database so two officers triaging at once cannot both win.
      await db.schema
        .createIndex('cases_open_alert')
        .ifNotExists()
        .unique()
        .on('cases')
        .column('alert_id')
        .where(sql<boolean>`alert_id is not null and state not in ('closed', 'cancelled')`)
        .execute()
      await db.schema.createIndex('cases_triaged').ifNotExists().on('cases').column('triaged_at').execute()
      await db.schema.createIndex('cases_site').ifNotExists().on('cases').columns(['site', 'triaged_at']).execute()
      await db.schema.createIndex('cases_device').ifNotExists().on('cases').columns(['device_id', 'triaged_at']).execute()

      await db.schema
        .createTable('case_events')
        .ifNotExists()
        .addColumn('id', id.type, id.build)
        .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id'))
        .addColumn('at', t.time, (c) => c.notNull())
        .addColumn('recorded_at', t.time, (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('step', 'text')
        .addColumn('from_state', 'text')
        .addColumn('to_state', 'text')
        .addColumn('note', 'text')
        .addColumn('evidence_description', 'text')
        .addColumn('evidence_reference', 'text')
        .execute()
      await db.schema.createIndex('case_events_case').ifNotExists().on('case_events').columns(['case_id', 'id']).execute()
    },
  }
}
