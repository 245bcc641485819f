import type { Kysely, Migration } from 'kysely'
import type { Dialect } from '../dialect.ts'

// Placeholder: filled in by the work that owns this migration.
export function alertLifecycle(_d: Dialect): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(_db: Kysely<any>) {},
  }
}
