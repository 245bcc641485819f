import { type Expression, type SqlBool, sql } from 'kysely'
import type { Visible } from '../devices/index.ts'

/**
 * A caller's scope as a WHERE condition: rows of one of a slice's device types at one of its
 * sites (any site for a slice without sites). Null when no slice can match anything (SQL has no
 * empty IN list), so the caller answers an empty listing without asking the database.
 */
export function visibleWhere(visible: readonly Visible[], typeColumn: string, siteColumn = 'site'): Expression<SqlBool> | null {
  const slices = visible.filter((s) => s.types.length > 0 && s.sites?.length !== 0)
  if (slices.length === 0) return null
  const inList = (column: string, values: readonly string[]) => sql`${sql.ref(column)} in (${sql.join([...values])})`
  const one = (s: Visible) =>
    s.sites === null ? inList(typeColumn, s.types) : sql`(${inList(typeColumn, s.types)} and ${inList(siteColumn, s.sites)})`
  return sql<SqlBool>`(${sql.join(slices.map(one), sql` or `)})`
}
