import type { Kysely } from 'kysely'
import type { Database } from './schema.ts'

/** Tables this store owns; schema.ts's Database extends it. */
// biome-ignore lint/complexity/noBannedTypes: placeholder until its tables exist
export type CaseTables = {}

// biome-ignore lint/complexity/noBannedTypes: placeholder until its methods exist
export type CaseStore = {}

export function createCaseStore(_db: Kysely<Database>): CaseStore {
  return {}
}
