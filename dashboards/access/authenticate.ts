import { type Grant, type Scope, scopeOf, siteGrants } from '#devices'
import type { Hasher } from '../../registry/credentials.ts'
import type { AreaStore } from '../../store/area-store.ts'
import type { PeopleStore } from '../../store/people-store.ts'
import type { TokenStore } from '../../store/token-store.ts'
import type { AuthGuard, AuthTransport } from '../auth-guard.ts'
import { ADMIN_TOKEN_ACTOR, type Principal } from './principal.ts'
import type { Sessions } from './sessions.ts'

export type Identified =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401; code: 'UNAUTHENTICATED' }
  | { ok: false; status: 429; code: 'AUTH_THROTTLED'; scope: 'address' | 'identity'; retryAfterS: number }

export interface Credentials {
  bearer: string | null
  session: string | null
  address: string
  transport: AuthTransport
  /** The service checking an open connection again: a session is not kept from going idle by it. */
  recheck?: boolean
}

export interface Authenticator {
  identify(c: Credentials): Promise<Identified>
  /** A grant list as a scope, with today's areas. */
  scopeOf(grants: readonly Grant[]): Promise<Scope>
}

// One identity for every bearer guess: a guesser does not name whose token it is guessing.
const BEARER_IDENTITY = 'bearer'
const SESSION_IDENTITY = 'session'
const USED_EVERY_MS = 60_000
const ADMIN: Grant[] = [{ role: 'admin', areas: null }]

/** Turns a bearer token or a session cookie into a principal. Both transports, one decision. */
export function createAuthenticator(deps: {
  people: PeopleStore
  tokens: TokenStore
  areas: AreaStore
  sessions: Sessions
  hasher: Hasher
  guard: AuthGuard
  verifyAdminToken(token: string): boolean
  now?: () => number
}): Authenticator {
  const now = deps.now ?? Date.now
  const scopeFor = async (grants: readonly Grant[]) => {
    const sites = grants.every((g) => g.areas === null) ? new Map<string, string[]>() : await deps.areas.sitesByArea()
    return scopeOf(siteGrants(grants, (a) => sites.get(a) ?? []))
  }
  const refused = (): Identified => ({ ok: false, status: 401, code: 'UNAUTHENTICATED' })

  const byBearer = async (token: string): Promise<Principal | null> => {
    if (deps.verifyAdminToken(token)) {
      return {
        kind: 'token',
        id: ADMIN_TOKEN_ACTOR,
        actor: ADMIN_TOKEN_ACTOR,
        name: 'ADMIN_TOKEN',
        email: null,
        grants: ADMIN,
        scope: await scopeFor(ADMIN),
        mustChangePassword: false,
        via: 'bearer',
      }
    }
    if (token.length > 200) return null
    const at = new Date(now())
    const t = await deps.tokens.byHash(deps.hasher.hash(token), at)
    if (!t) return null
    if (!t.lastUsedAt || at.getTime() - Date.parse(t.lastUsedAt) >= USED_EVERY_MS) await deps.tokens.used(t.id, at)
    return {
      kind: 'token',
      id: t.id,
      actor: `token:${t.id}`,
      name: t.name,
      email: null,
      grants: [t.grant],
      scope: await scopeFor([t.grant]),
      mustChangePassword: false,
      via: 'bearer',
    }
  }

  const bySession = async (cookie: string, touch: boolean): Promise<Principal | null> => {
    const s = await deps.sessions.resolve(cookie, { touch })
    if (!s) return null
    const p = await deps.people.get(s.row.personId)
    if (p?.status !== 'active') {
      await deps.sessions.end(cookie)
      return null
    }
    return {
      kind: 'person',
      id: p.id,
      actor: `person:${p.id}`,
      name: p.name,
      email: p.email,
      grants: p.grants,
      scope: await scopeFor(p.grants),
      mustChangePassword: p.mustChangePassword,
      via: 'session',
      session: { idHash: s.idHash, csrf: s.csrf },
    }
  }

  return {
    scopeOf: scopeFor,
    async identify(c) {
      const value = c.bearer ?? c.session
      if (!value) return refused()
      const identity = c.bearer ? BEARER_IDENTITY : SESSION_IDENTITY
      // Checked before the credential: a blocked client must not learn whether its guess was right.
      const block = deps.guard.check(c.address, identity, c.transport)
      if (block) return { ok: false, status: 429, code: 'AUTH_THROTTLED', ...block }
      const principal = c.bearer ? await byBearer(c.bearer) : await bySession(value, c.recheck !== true)
      if (principal) {
        deps.guard.succeeded(c.address)
        return { ok: true, principal }
      }
      deps.guard.failed(c.address, identity, c.transport)
      return refused()
    },
  }
}
