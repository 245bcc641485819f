import { randomUUID } from 'node:crypto'
import type { Kysely, Selectable } from 'kysely'
import { type ApiToken, Grant } from '../devices/index.ts'
import type { Database, Iso, Json } from './schema.ts'

export interface ApiTokensTable {
  id: string
  name: string
  token_hash: Buffer
  role_grant: Json
  created_at: Iso
  created_by: string
  expires_at: Iso
  revoked_at: Iso | null
  last_used_at: Iso | null
}

export interface TokenStore {
  create(t: { name: string; grant: Grant; tokenHash: Buffer; expiresAt: Date; createdBy: string }, at?: Date): Promise<ApiToken>
  list(): Promise<ApiToken[]>
  get(id: string): Promise<ApiToken | undefined>
  /** The live token with this hash: not revoked, not expired. */
  byHash(hash: Buffer, now: Date): Promise<ApiToken | undefined>
  revoke(id: string, at: Date): Promise<ApiToken | undefined>
  used(id: string, at: Date): Promise<void>
}

const toToken = (r: Selectable<ApiTokensTable>): ApiToken => ({
  id: r.id,
  name: r.name,
  grant: Grant.parse(typeof r.role_grant === 'string' ? JSON.parse(r.role_grant) : r.role_grant),
  createdAt: r.created_at,
  createdBy: r.created_by,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
})

export function createTokenStore(db: Kysely<Database>): TokenStore {
  const get = async (id: string) => {
    const r = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst()
    return r && toToken(r)
  }
  return {
    async create(t, at = new Date()) {
      const id = randomUUID()
      await db
        .insertInto('api_tokens')
        .values({
          id,
          name: t.name,
          token_hash: t.tokenHash,
          role_grant: JSON.stringify(t.grant),
          created_at: at.toISOString(),
          created_by: t.createdBy,
          expires_at: t.expiresAt.toISOString(),
          revoked_at: null,
          last_used_at: null,
        })
        .execute()
      return (await get(id))!
    },
    async list() {
      return (await db.selectFrom('api_tokens').selectAll().orderBy('created_at', 'desc').execute()).map(toToken)
    },
    get,
    async byHash(hash, now) {
      const r = await db
        .selectFrom('api_tokens')
        .selectAll()
        .where('token_hash', '=', hash)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now.toISOString())
        .executeTakeFirst()
      return r && toToken(r)
    },
    async revoke(id, at) {
      await db
        .updateTable('api_tokens')
        .set({ revoked_at: at.toISOString() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute()
      return get(id)
    },
    async used(id, at) {
      await db.updateTable('api_tokens').set({ last_used_at: at.toISOString() }).where('id', '=', id).execute()
    },
  }
}
