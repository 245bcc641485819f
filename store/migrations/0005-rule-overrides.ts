import type { Kysely, Migration } from 'kysely'
import { autoId, columnTypes, type Dialect } from '../dialect.ts'

/** Per-site and per-device overrides of catalogue rules, and who changed them when (issue 9). */
export function ruleOverrides(d: Dialect): Migration {
  const t = columnTypes(d)
  const id = autoId(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('rule_overrides')
        .ifNotExists()
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('rule_id', 'text', (c) => c.notNull())
        .addColumn('params', t.json, (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('note', 'text')
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('rule_overrides_pk', ['scope', 'target', 'rule_id'])
        .execute()

      await db.schema
        .createTable('rule_override_history')
        .ifNotExists()
        .addColumn('id', id.type, id.build)
        .addColumn('at', t.time, (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('rule_id', 'text', (c) => c.notNull())
        .addColumn('before', t.json)
        .addColumn('after', t.json)
        .addColumn('note', 'text')
        .execute()
      await db.schema
        .createIndex('rule_override_history_target')
        .ifNotExists()
        .on('rule_override_history')
        .columns(['target', 'rule_id', 'id'])
        .execute()
    },
  }
}
