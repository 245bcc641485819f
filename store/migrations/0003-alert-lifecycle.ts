import { type Kysely, type Migration, sql } from 'kysely'
import { columnTypes, type Dialect } from '../dialect.ts'

/**
 * The alert lifecycle (issue 9): comments, assignment, snoozing, resolution by a person,
 * reopening, the rule's text and detail on the alert, and from/to/note in its history.
 */
export function alertLifecycle(d: Dialect): Migration {
  const t = columnTypes(d)
  const alerts: [string, (typeof t)[keyof typeof t] | 'text'][] = [
    ['text', 'text'],
    ['detail', t.json],
    ['acknowledged_comment', 'text'],
    ['assigned_to', 'text'],
    ['snoozed_until', t.time],
    ['resolved_at', t.time],
    ['resolved_by', 'text'],
    ['resolved_note', 'text'],
    ['reopened_ts', t.int64],
  ]
  const history: typeof alerts = [
    ['from_status', 'text'],
    ['to_status', 'text'],
    ['note', 'text'],
    ['assigned_to', 'text'],
    ['snoozed_until', t.time],
    ['detail', t.json],
  ]
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      // SQLite has no ADD COLUMN IF NOT EXISTS and runs migrations outside a transaction:
      // only missing columns are added, so a run interrupted half way resumes.
      const tables = await db.introspection.getTables()
      const has = (table: string) => new Set(tables.find((x) => x.name === table)?.columns.map((c) => c.name))
      for (const [table, columns] of [
        ['alerts', alerts],
        ['alert_history', history],
      ] as const) {
        const present = has(table)
        for (const [name, type] of columns) {
          if (!present.has(name)) await db.schema.alterTable(table).addColumn(name, type).execute()
        }
      }
      // A replay of the reading that reopened an alert must not reopen it again (NULLs never collide).
      await db.schema
        .createIndex('alerts_device_rule_reopened')
        .ifNotExists()
        .unique()
        .on('alerts')
        .columns(['device_id', 'rule_id', 'reopened_ts'])
        .execute()
      // Open is now active or acknowledged: a resolved alert is not open.
      await db.schema.dropIndex('alerts_open').ifExists().execute()
      await db.schema
        .createIndex('alerts_open')
        .on('alerts')
        .column('status')
        .where(sql<boolean>`status in ('active', 'acknowledged')`)
        .execute()
    },
  }
}
