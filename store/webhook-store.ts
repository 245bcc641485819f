import { randomBytes, randomUUID } from 'node:crypto'
import type { Kysely, Selectable } from 'kysely'
import { type NewWebhook, WEBHOOK_SECRET_BYTES, WEBHOOK_SECRET_PREFIX, type Webhook, type WebhookWithSecret } from '#devices'
import type { Database, Iso, Json } from './schema.ts'
import type { SecretBox } from './webhook-secrets.ts'

export interface WebhookSubscriptionsTable {
  id: string
  url: string
  description: string
  event_types: Json
  rule_ids: Json
  areas: Json
  /** Sealed signing key (webhook-secrets.ts). */
  secret: Buffer
  previous_secret: Buffer | null
  previous_until: Iso | null
  created_at: Iso
  created_by: string
  rotated_at: Iso | null
}

/** Tables this store owns; schema.ts's Database extends it. */
export type WebhookTables = { webhook_subscriptions: WebhookSubscriptionsTable }

/** What the producer matches an event against. */
export interface WebhookRoute {
  id: string
  eventTypes: readonly string[]
  ruleIds: readonly string[]
  areas: readonly string[]
}

/** What the webhook channel needs to send: where, and the keys to sign with (the current one first). */
export interface WebhookSigning {
  url: string
  keys: Buffer[]
  /** When the keys change by themselves (the previous secret stops signing), epoch ms; null: not before a rotation. */
  changesAt: number | null
}

export interface WebhookStore {
  /** The secret is in the answer, and nowhere else afterwards. */
  create(input: NewWebhook, actor: string, at?: Date): Promise<WebhookWithSecret>
  list(): Promise<Webhook[]>
  get(id: string): Promise<Webhook | null>
  delete(id: string): Promise<boolean>
  /** A new secret; the old one still signs for `overlapMs`. Null when there is no such subscription. */
  rotate(id: string, overlapMs: number, at?: Date): Promise<WebhookWithSecret | null>
  routes(): Promise<WebhookRoute[]>
  signing(id: string, now?: Date): Promise<WebhookSigning | null>
}

const list = (v: unknown): string[] => (typeof v === 'string' ? JSON.parse(v) : v) as string[]

const toWebhook = (r: Selectable<WebhookSubscriptionsTable>): Webhook => ({
  id: r.id,
  url: r.url,
  description: r.description,
  eventTypes: list(r.event_types) as Webhook['eventTypes'],
  ruleIds: list(r.rule_ids),
  areas: list(r.areas),
  createdAt: r.created_at,
  createdBy: r.created_by,
  rotatedAt: r.rotated_at,
  previousSecretUntil: r.previous_until,
})

/** A Standard Webhooks secret: `whsec_` + base64 of the key bytes. */
export function newWebhookSecret(): { secret: string; key: Buffer } {
  const key = randomBytes(WEBHOOK_SECRET_BYTES)
  return { secret: `${WEBHOOK_SECRET_PREFIX}${key.toString('base64')}`, key }
}

export function createWebhookStore(db: Kysely<Database>, box: SecretBox): WebhookStore {
  const row = (id: string) => db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst()
  return {
    async create(input, actor, at = new Date()) {
      const { secret, key } = newWebhookSecret()
      const r = await db
        .insertInto('webhook_subscriptions')
        .values({
          id: randomUUID(),
          url: input.url,
          description: input.description,
          event_types: JSON.stringify(input.eventTypes),
          rule_ids: JSON.stringify(input.ruleIds),
          areas: JSON.stringify(input.areas),
          secret: box.seal(key),
          previous_secret: null,
          previous_until: null,
          created_at: at.toISOString(),
          created_by: actor,
          rotated_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow()
      return { ...toWebhook(r), secret }
    },
    async list() {
      const rows = await db.selectFrom('webhook_subscriptions').selectAll().orderBy('created_at').orderBy('id').execute()
      return rows.map(toWebhook)
    },
    async get(id) {
      const r = await row(id)
      return r ? toWebhook(r) : null
    },
    async delete(id) {
      const r = await db.deleteFrom('webhook_subscriptions').where('id', '=', id).executeTakeFirst()
      return Number(r.numDeletedRows) > 0
    },
    async rotate(id, overlapMs, at = new Date()) {
      const { secret, key } = newWebhookSecret()
      const r = await db
        .updateTable('webhook_subscriptions')
        .set((eb) => ({
          previous_secret: eb.ref('secret'),
          previous_until: new Date(at.getTime() + overlapMs).toISOString(),
          secret: box.seal(key),
          rotated_at: at.toISOString(),
        }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst()
      return r ? { ...toWebhook(r), secret } : null
    },
    async routes() {
      const rows = await db.selectFrom('webhook_subscriptions').select(['id', 'event_types', 'rule_ids', 'areas']).orderBy('id').execute()
      return rows.map((r) => ({ id: r.id, eventTypes: list(r.event_types), ruleIds: list(r.rule_ids), areas: list(r.areas) }))
    },
    async signing(id, now = new Date()) {
      const r = await row(id)
      if (!r) return null
      const keys = [box.open(r.secret)]
      const until = r.previous_until ? Date.parse(r.previous_until) : null
      if (r.previous_secret && until !== null && until > now.getTime()) {
        keys.push(box.open(r.previous_secret))
        return { url: r.url, keys, changesAt: until }
      }
      return { url: r.url, keys, changesAt: null }
    },
  }
}
