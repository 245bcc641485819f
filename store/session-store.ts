import type { Kysely } from 'kysely'
import type { Database } from './schema.ts'

export interface SessionsTable {
  /** HMAC of the cookie's value: a copy of the database signs nobody in. */
  id_hash: Buffer
  person_id: string
  created_at: number
  last_seen_at: number
  expires_at: number
}

export interface SessionRow {
  personId: string
  createdAt: number
  lastSeenAt: number
  expiresAt: number
}

export interface SessionStore {
  create(idHash: Buffer, personId: string, now: number, expiresAt: number): Promise<void>
  get(idHash: Buffer): Promise<SessionRow | undefined>
  touch(idHash: Buffer, now: number): Promise<void>
  delete(idHash: Buffer): Promise<void>
  /** Signs a person out everywhere (password change, disabled, roles changed). */
  deleteForPerson(personId: string): Promise<void>
  deleteExpired(now: number, idleMs: number): Promise<number>
}

export function createSessionStore(db: Kysely<Database>): SessionStore {
  return {
    async create(idHash, personId, now, expiresAt) {
      await db
        .insertInto('sessions')
        .values({ id_hash: idHash, person_id: personId, created_at: now, last_seen_at: now, expires_at: expiresAt })
        .execute()
    },
    async get(idHash) {
      const r = await db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst()
      return (
        r && { personId: r.person_id, createdAt: Number(r.created_at), lastSeenAt: Number(r.last_seen_at), expiresAt: Number(r.expires_at) }
      )
    },
    async touch(idHash, now) {
      await db.updateTable('sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute()
    },
    async delete(idHash) {
      await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute()
    },
    async deleteForPerson(personId) {
      await db.deleteFrom('sessions').where('person_id', '=', personId).execute()
    },
    async deleteExpired(now, idleMs) {
      const r = await db
        .deleteFrom('sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', now - idleMs)]))
        .executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }
}
