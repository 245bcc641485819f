import type { ColumnType, Generated, Kysely, Selectable } from 'kysely'
import type { OverrideChange, OverrideSource } from '../alerts/rule-book.ts'
import type {
  OverrideScope,
  OverrideValue,
  RuleOverride,
  RuleOverrideHistoryEntry,
  StoredRuleOverride,
} from '../devices/rules/overrides.ts'
import type { Database, Iso, Json } from './schema.ts'

type JsonOrNull = ColumnType<unknown, string | null, string | null>

export interface RuleOverridesTable {
  scope: OverrideScope
  target: string
  rule_id: string
  params: Json
  /** 0 or 1 on both dialects: SQLite has no boolean to bind. */
  disabled: number
  note: string | null
  updated_by: string
  updated_at: Iso
}

export interface RuleOverrideHistoryTable {
  id: Generated<number>
  at: Iso
  actor: string
  action: RuleOverrideHistoryEntry['action']
  scope: OverrideScope
  target: string
  rule_id: string
  /** OverrideValue as JSON, null when there was no override before (or after). */
  before: JsonOrNull
  after: JsonOrNull
  note: string | null
}

/** Tables this store owns; schema.ts's Database extends it. */
export type OverrideTables = {
  rule_overrides: RuleOverridesTable
  rule_override_history: RuleOverrideHistoryTable
}

export interface OverrideKey {
  scope: OverrideScope
  target: string
  ruleId: string
}

export interface OverrideFilter {
  scope?: OverrideScope | undefined
  target?: string | undefined
  ruleId?: string | undefined
}

/** The rule book's port, plus what the API does with overrides. */
export interface OverrideStore extends OverrideSource {
  list(filter?: OverrideFilter): Promise<StoredRuleOverride[]>
  get(key: OverrideKey): Promise<StoredRuleOverride | null>
  /** Sets (replaces) an override and records it in the history, in one transaction. */
  set(override: RuleOverride, actor: string, at?: Date): Promise<{ override: StoredRuleOverride; before: StoredRuleOverride | null }>
  /** Removes an override and records it; null (and nothing recorded) when there was none. */
  remove(key: OverrideKey, actor: string, note?: string, at?: Date): Promise<StoredRuleOverride | null>
  /** Newest first. */
  history(filter?: OverrideFilter & { limit?: number | undefined }): Promise<RuleOverrideHistoryEntry[]>
  onChange(listener: (change: OverrideChange) => void): () => void
}

// jsonb arrives parsed, SQLite text does not.
const parse = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v)

const toOverride = (r: Selectable<RuleOverridesTable>): StoredRuleOverride => ({
  scope: r.scope,
  target: r.target,
  ruleId: r.rule_id,
  params: parse(r.params) as Record<string, unknown>,
  disabled: Boolean(r.disabled),
  ...(r.note === null ? {} : { note: r.note }),
  updatedBy: r.updated_by,
  updatedAt: r.updated_at,
})

const snapshot = (o: RuleOverride | null): OverrideValue | null => (o ? { params: o.params, disabled: o.disabled } : null)
const asJson = (v: OverrideValue | null) => (v ? JSON.stringify(v) : null)

export function createOverrideStore(db: Kysely<Database>): OverrideStore {
  const listeners = new Set<(change: OverrideChange) => void>()
  // After the commit, so the rule book never sees a change that rolled back.
  const changed = (change: OverrideChange) => {
    for (const l of listeners) l(change)
  }
  const byKey = (q: Kysely<Database>, k: OverrideKey) =>
    q
      .selectFrom('rule_overrides')
      .selectAll()
      .where('scope', '=', k.scope)
      .where('target', '=', k.target)
      .where('rule_id', '=', k.ruleId)
      .executeTakeFirst()

  return {
    async list(f = {}) {
      let q = db.selectFrom('rule_overrides').selectAll()
      if (f.scope) q = q.where('scope', '=', f.scope)
      if (f.target) q = q.where('target', '=', f.target)
      if (f.ruleId) q = q.where('rule_id', '=', f.ruleId)
      const rows = await q.orderBy('scope').orderBy('target').orderBy('rule_id').execute()
      return rows.map(toOverride)
    },
    async get(k) {
      const row = await byKey(db, k)
      return row ? toOverride(row) : null
    },
    async set(o, actor, at = new Date()) {
      const when = at.toISOString()
      const values = {
        scope: o.scope,
        target: o.target,
        rule_id: o.ruleId,
        params: JSON.stringify(o.params),
        disabled: o.disabled ? 1 : 0,
        note: o.note ?? null,
        updated_by: actor,
        updated_at: when,
      }
      const r = await db.transaction().execute(async (trx) => {
        const old = await byKey(trx, o)
        const row = await trx
          .insertInto('rule_overrides')
          .values(values)
          .onConflict((oc) =>
            oc.columns(['scope', 'target', 'rule_id']).doUpdateSet({
              params: values.params,
              disabled: values.disabled,
              note: values.note,
              updated_by: actor,
              updated_at: when,
            }),
          )
          .returningAll()
          .executeTakeFirstOrThrow()
        const override = toOverride(row)
        const before = old ? toOverride(old) : null
        await trx
          .insertInto('rule_override_history')
          .values({
            at: when,
            actor,
            action: 'set',
            scope: o.scope,
            target: o.target,
            rule_id: o.ruleId,
            before: asJson(snapshot(before)),
            after: asJson(snapshot(override)),
            note: o.note ?? null,
          })
          .execute()
        return { override, before }
      })
      changed({ scope: o.scope, target: o.target, ruleId: o.ruleId, override: r.override })
      return r
    },
    async remove(k, actor, note, at = new Date()) {
      const when = at.toISOString()
      const removed = await db.transaction().execute(async (trx) => {
        const row = await trx
          .deleteFrom('rule_overrides')
          .where('scope', '=', k.scope)
          .where('target', '=', k.target)
          .where('rule_id', '=', k.ruleId)
          .returningAll()
          .executeTakeFirst()
        if (!row) return null
        const before = toOverride(row)
        await trx
          .insertInto('rule_override_history')
          .values({
            at: when,
            actor,
            action: 'removed',
            scope: k.scope,
            target: k.target,
            rule_id: k.ruleId,
            before: asJson(snapshot(before)),
            after: null,
            note: note ?? null,
          })
          .execute()
        return before
      })
      if (removed) changed({ scope: k.scope, target: k.target, ruleId: k.ruleId, override: null })
      return removed
    },
    async history(f = {}) {
      let q = db.selectFrom('rule_override_history').selectAll()
      if (f.scope) q = q.where('scope', '=', f.scope)
      if (f.target) q = q.where('target', '=', f.target)
      if (f.ruleId) q = q.where('rule_id', '=', f.ruleId)
      const rows = await q
        .orderBy('id', 'desc')
        .limit(Math.min(f.limit ?? 100, 1000))
        .execute()
      return rows.map((r) => ({
        id: r.id,
        at: r.at,
        actor: r.actor,
        action: r.action,
        scope: r.scope,
        target: r.target,
        ruleId: r.rule_id,
        before: parse(r.before) as OverrideValue | null,
        after: parse(r.after) as OverrideValue | null,
        note: r.note,
      }))
    },
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
