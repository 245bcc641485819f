import type { Generated, Kysely } from 'kysely'
import type { AuditAction, AuditEntry } from '../devices/index.ts'
import type { Database, Iso, Json } from './schema.ts'

export interface AuditLogTable {
  id: Generated<number>
  at: Iso
  actor: string
  action: AuditAction
  target: string | null
  address: string | null
  detail: Json | null
}

export interface NewAuditEntry {
  actor: string
  action: AuditAction
  target?: string | null
  address?: string | null
  detail?: Record<string, unknown> | null
}

export interface AuditFilter {
  action?: AuditAction | undefined
  actor?: string | undefined
  /** Entries with an id below this, for paging back from the newest. */
  before?: number | undefined
  limit?: number | undefined
}

/** Append-only: there is no update and no delete. */
export interface AuditStore {
  append(e: NewAuditEntry, at?: Date): Promise<void>
  list(f?: AuditFilter): Promise<AuditEntry[]>
}

export function createAuditStore(db: Kysely<Database>): AuditStore {
  return {
    async append(e, at = new Date()) {
      await db
        .insertInto('audit_log')
        .values({
          at: at.toISOString(),
          actor: e.actor,
          action: e.action,
          target: e.target ?? null,
          address: e.address ?? null,
          detail: e.detail ? JSON.stringify(e.detail) : null,
        })
        .execute()
    },
    async list(f = {}) {
      let q = db
        .selectFrom('audit_log')
        .selectAll()
        .orderBy('id', 'desc')
        .limit(f.limit ?? 100)
      if (f.action) q = q.where('action', '=', f.action)
      if (f.actor) q = q.where('actor', '=', f.actor)
      if (f.before !== undefined) q = q.where('id', '<', f.before)
      return (await q.execute()).map((r) => ({
        id: Number(r.id),
        at: r.at,
        actor: r.actor,
        action: r.action,
        target: r.target,
        address: r.address,
        detail: r.detail == null ? null : ((typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail) as Record<string, unknown>),
      }))
    },
  }
}
