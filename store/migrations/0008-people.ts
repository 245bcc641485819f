import type { Kysely, Migration } from 'kysely'
import { autoId, columnTypes, type Dialect } from '../dialect.ts'

/** People and their roles, areas of sites, sessions, invitations, automation tokens and the audit log. */
export function people(d: Dialect): Migration {
  const t = columnTypes(d)
  const id = autoId(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('areas')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('area_sites')
        .ifNotExists()
        .addColumn('area_id', 'text', (c) => c.notNull())
        .addColumn('site', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('area_sites_pk', ['area_id', 'site'])
        .execute()
      await db.schema
        .createTable('people')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('grants', t.json, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('must_change_password', 'integer', (c) => c.notNull())
        .addColumn('oidc_subject', 'text', (c) => c.unique())
        // 'admin' | 'sso': whether an administrator or the identity provider's group map set the grants.
        .addColumn('grants_source', 'text', (c) => c.notNull().defaultTo('admin'))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('last_sign_in_at', t.time)
        .execute()
      await db.schema
        .createTable('sessions')
        .ifNotExists()
        .addColumn('id_hash', t.bytes, (c) => c.primaryKey().notNull())
        .addColumn('person_id', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('last_seen_at', t.int64, (c) => c.notNull())
        .addColumn('expires_at', t.int64, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('sessions_person').ifNotExists().on('sessions').column('person_id').execute()
      await db.schema
        .createTable('invitations')
        .ifNotExists()
        .addColumn('token_hash', t.bytes, (c) => c.primaryKey().notNull())
        .addColumn('person_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', t.int64, (c) => c.notNull())
        .addColumn('used_at', t.int64)
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('api_tokens')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', t.bytes, (c) => c.notNull().unique())
        .addColumn('role_grant', t.json, (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .addColumn('revoked_at', t.time)
        .addColumn('last_used_at', t.time)
        .execute()
      await db.schema
        .createTable('audit_log')
        .ifNotExists()
        .addColumn('id', id.type, id.build)
        .addColumn('at', t.time, (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('address', 'text')
        .addColumn('detail', t.json)
        .execute()
      await db.schema.createIndex('audit_log_at').ifNotExists().on('audit_log').column('at').execute()
    },
  }
}
