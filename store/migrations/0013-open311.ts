import type { Kysely, Migration } from 'kysely'
import { columnTypes, type Dialect } from '../dialect.ts'

/**
 * Open311 out (issue 14): the service request made for an alert on the contractor's GeoReport v2
 * endpoint, and its status as last polled. One per alert: a retried or replayed delivery finds it
 * and makes no second request.
 */
export function open311(d: Dialect): Migration {
  const t = columnTypes(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('open311_requests')
        .ifNotExists()
        .addColumn('alert_id', 'text', (c) => c.primaryKey())
        .addColumn('service_code', 'text', (c) => c.notNull())
        .addColumn('service_request_id', 'text')
        // A server may answer with a token first and give the id later (GET /tokens/{token}).
        .addColumn('token', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_notes', 'text')
        .addColumn('agency_responsible', 'text')
        .addColumn('updated_at', 'text')
        .addColumn('submitted_at', t.time, (c) => c.notNull())
        .addColumn('checked_at', t.time)
        // Epoch ms: the poller takes the requests checked longest ago first.
        .addColumn('checked_ms', t.int64, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('open311_requests_poll').ifNotExists().on('open311_requests').columns(['status', 'checked_ms']).execute()
    },
  }
}
