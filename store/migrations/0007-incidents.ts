import type { Kysely, Migration } from 'kysely'
import { columnTypes, type Dialect } from '../dialect.ts'

/** Incidents (many devices of a site silent together) and the offline alerts grouped under them. */
export function incidents(d: Dialect): Migration {
  const t = columnTypes(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('incidents')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('opened_at', t.time, (c) => c.notNull())
        .addColumn('cleared_at', t.time)
        .addColumn('devices', 'integer', (c) => c.notNull())
        .addColumn('silent', 'integer', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('incidents_site_status').ifNotExists().on('incidents').columns(['site', 'status']).execute()
      const cols = new Set((await db.introspection.getTables()).find((x) => x.name === 'alerts')?.columns.map((c) => c.name))
      if (!cols.has('incident_id')) await db.schema.alterTable('alerts').addColumn('incident_id', 'text').execute()
      await db.schema.createIndex('alerts_incident').ifNotExists().on('alerts').columns(['incident_id', 'status']).execute()
    },
  }
}
