import { randomUUID } from 'node:crypto'
import type { Kysely, Selectable } from 'kysely'
import { type Grant, Grants, type Person } from '../devices/index.ts'
import type { Database, Iso, Json } from './schema.ts'

export interface PeopleTable {
  id: string
  email: string
  name: string
  grants: Json
  status: Person['status']
  /** argon2id PHC string; null for people who sign in only through the identity provider. */
  password_hash: string | null
  must_change_password: number
  /** `<issuer> <sub>` of the identity provider's account, once linked. */
  oidc_subject: string | null
  grants_source: GrantsSource
  created_at: Iso
  created_by: string
  last_sign_in_at: Iso | null
}

export interface InvitationsTable {
  token_hash: Buffer
  person_id: string
  expires_at: number
  used_at: number | null
  created_by: string
}

export type PeopleTables = { people: PeopleTable; invitations: InvitationsTable }

/**
 * Who decided a person's grants last: an administrator, or the identity provider's group map.
 * Grants the group map gave go when the person leaves every mapped group; an administrator's stay.
 */
export type GrantsSource = 'admin' | 'sso'

/** A person with what sign-in needs; never sent to a client as is. */
export interface PersonRecord extends Person {
  passwordHash: string | null
  oidcSubject: string | null
}

export interface NewPerson {
  email: string
  name: string
  grants: Grant[]
  status: Person['status']
  passwordHash: string | null
  mustChangePassword: boolean
  oidcSubject?: string | null
  /** 'admin' unless told otherwise. */
  grantsSource?: GrantsSource
  createdBy: string
}

export interface PeopleStore {
  /** Throws when the email (compared case-insensitively) is taken; see createIfNew. */
  create(p: NewPerson, at?: Date): Promise<PersonRecord>
  /** The new person, or undefined when the email is already taken: one statement, so two invitations cannot race. */
  createIfNew(p: NewPerson, at?: Date): Promise<PersonRecord | undefined>
  get(id: string): Promise<PersonRecord | undefined>
  byEmail(email: string): Promise<PersonRecord | undefined>
  byOidcSubject(subject: string): Promise<PersonRecord | undefined>
  list(): Promise<PersonRecord[]>
  count(): Promise<number>
  /** People's display names by id, for histories. */
  names(ids: readonly string[]): Promise<Map<string, string>>
  setPassword(id: string, hash: string, mustChange: boolean): Promise<void>
  /** No password any more: the person signs in only through the identity provider. */
  clearPassword(id: string): Promise<void>
  /** Grants set by an administrator unless `source` says the group map set them. */
  setGrants(id: string, grants: Grant[], source?: GrantsSource): Promise<PersonRecord | undefined>
  setStatus(id: string, status: Person['status']): Promise<void>
  linkOidc(id: string, subject: string): Promise<void>
  signedIn(id: string, at: Date): Promise<void>
  addInvitation(tokenHash: Buffer, personId: string, expiresAt: number, createdBy: string): Promise<void>
  /** The person of an unused, unexpired invitation, without using it (to greet them, and to judge their password first). */
  peekInvitation(tokenHash: Buffer, now: number): Promise<string | undefined>
  /**
   * What became of an invitation link, live or not, for the audit of a refused one: whose it is and
   * whether it was used or has expired (used wins: a used link's expiry does not matter); undefined
   * for a link that was never made or has been withdrawn.
   */
  invitationState(tokenHash: Buffer, now: number): Promise<{ personId: string; state: 'live' | 'used' | 'expired' } | undefined>
  /** Marks an unused, unexpired invitation used and returns its person id; undefined otherwise. Single use holds under races. */
  useInvitation(tokenHash: Buffer, now: number): Promise<string | undefined>
  /** Withdraws a person's unused invitations, so that only the newest link works. */
  dropInvitations(personId: string): Promise<number>
}

const normalEmail = (email: string) => email.trim().toLowerCase()

const grantsOf = (v: unknown): Grant[] => Grants.parse(typeof v === 'string' ? JSON.parse(v) : v)

const toRecord = (r: Selectable<PeopleTable>): PersonRecord => ({
  id: r.id,
  email: r.email,
  name: r.name,
  grants: grantsOf(r.grants),
  status: r.status,
  mustChangePassword: r.must_change_password === 1,
  sso: r.oidc_subject !== null,
  createdAt: r.created_at,
  lastSignInAt: r.last_sign_in_at,
  passwordHash: r.password_hash,
  oidcSubject: r.oidc_subject,
  grantsSource: r.grants_source,
})

/** Strips what sign-in needs before a person goes out through the API. */
export const publicPerson = ({ passwordHash: _h, oidcSubject: _s, ...p }: PersonRecord): Person => p

export function createPeopleStore(db: Kysely<Database>): PeopleStore {
  const get = async (id: string) => {
    const r = await db.selectFrom('people').selectAll().where('id', '=', id).executeTakeFirst()
    return r && toRecord(r)
  }
  const insert = (p: NewPerson, at: Date) => {
    const id = randomUUID()
    return {
      id,
      query: db.insertInto('people').values({
        id,
        email: normalEmail(p.email),
        name: p.name,
        grants: JSON.stringify(p.grants),
        status: p.status,
        password_hash: p.passwordHash,
        must_change_password: p.mustChangePassword ? 1 : 0,
        oidc_subject: p.oidcSubject ?? null,
        grants_source: p.grantsSource ?? 'admin',
        created_at: at.toISOString(),
        created_by: p.createdBy,
        last_sign_in_at: null,
      }),
    }
  }
  return {
    async create(p, at = new Date()) {
      const { id, query } = insert(p, at)
      await query.execute()
      return (await get(id))!
    },
    async createIfNew(p, at = new Date()) {
      const { id, query } = insert(p, at)
      await query.onConflict((oc) => oc.column('email').doNothing()).execute()
      // The id is fresh: it exists only if this insert, not an earlier one, took the email.
      return get(id)
    },
    get,
    async byEmail(email) {
      const r = await db.selectFrom('people').selectAll().where('email', '=', normalEmail(email)).executeTakeFirst()
      return r && toRecord(r)
    },
    async byOidcSubject(subject) {
      const r = await db.selectFrom('people').selectAll().where('oidc_subject', '=', subject).executeTakeFirst()
      return r && toRecord(r)
    },
    async list() {
      return (await db.selectFrom('people').selectAll().orderBy('email').execute()).map(toRecord)
    },
    async count() {
      const r = await db
        .selectFrom('people')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
      return Number(r.n)
    },
    async names(ids) {
      if (ids.length === 0) return new Map()
      const rows = await db
        .selectFrom('people')
        .select(['id', 'name'])
        .where('id', 'in', [...new Set(ids)])
        .execute()
      return new Map(rows.map((r) => [r.id, r.name]))
    },
    async setPassword(id, hash, mustChange) {
      await db
        .updateTable('people')
        .set({ password_hash: hash, must_change_password: mustChange ? 1 : 0 })
        .where('id', '=', id)
        .execute()
    },
    async clearPassword(id) {
      await db.updateTable('people').set({ password_hash: null, must_change_password: 0 }).where('id', '=', id).execute()
    },
    async setGrants(id, grants, source = 'admin') {
      await db
        .updateTable('people')
        .set({ grants: JSON.stringify(grants), grants_source: source })
        .where('id', '=', id)
        .execute()
      return get(id)
    },
    async setStatus(id, status) {
      await db.updateTable('people').set({ status }).where('id', '=', id).execute()
    },
    async linkOidc(id, subject) {
      await db.updateTable('people').set({ oidc_subject: subject }).where('id', '=', id).execute()
    },
    async signedIn(id, at) {
      await db.updateTable('people').set({ last_sign_in_at: at.toISOString() }).where('id', '=', id).execute()
    },
    async addInvitation(tokenHash, personId, expiresAt, createdBy) {
      await db
        .insertInto('invitations')
        .values({ token_hash: tokenHash, person_id: personId, expires_at: expiresAt, used_at: null, created_by: createdBy })
        .execute()
    },
    async peekInvitation(tokenHash, now) {
      const r = await db
        .selectFrom('invitations')
        .select('person_id')
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst()
      return r?.person_id
    },
    async invitationState(tokenHash, now) {
      const r = await db
        .selectFrom('invitations')
        .select(['person_id', 'expires_at', 'used_at'])
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst()
      if (!r) return undefined
      const state = r.used_at !== null ? 'used' : Number(r.expires_at) <= now ? 'expired' : 'live'
      return { personId: r.person_id, state }
    },
    async useInvitation(tokenHash, now) {
      // One conditional update: two clicks on the same link cannot both succeed.
      const r = await db
        .updateTable('invitations')
        .set({ used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('person_id')
        .executeTakeFirst()
      return r?.person_id
    },
    async dropInvitations(personId) {
      const r = await db.deleteFrom('invitations').where('person_id', '=', personId).where('used_at', 'is', null).executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }
}
