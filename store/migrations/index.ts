import type { Migration, MigrationProvider } from 'kysely'
import type { Dialect } from '../dialect.ts'
import { registry } from './0001-registry.ts'
import { alertEngine } from './0002-alert-engine.ts'

/**
 * Listed in code rather than read from the folder, so the list is the same under tsx,
 * after tsc and in a bundle. Names are applied in sorted order and must never change.
 */
export function migrationProvider(d: Dialect): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001-registry': registry(d),
    '0002-alert-engine': alertEngine(d),
  }
  return { getMigrations: async () => migrations }
}
