import { randomBytes } from 'node:crypto'
import type { Area, Grant } from '#devices'
import { createSessions } from '../../dashboards/access/sessions.ts'
import type { Registry } from '../../store/registry.ts'
import { noteSecret } from './log-capture.ts'

/**
 * Callers of every kind for tests, made straight through the registry (not through the
 * routes under test): areas, people with a session cookie and its CSRF token, and API tokens.
 */
export interface Caller {
  /** Headers that authenticate a request as this caller (cookie + CSRF, or bearer). */
  headers: Record<string, string>
  actor: string
  id: string
}

export async function putArea(registry: Registry, area: Area): Promise<void> {
  await registry.areas.put(area, 'admin-token')
}

/** A signed-in person (active, password already chosen) with these grants. */
export async function signedInPerson(
  registry: Registry,
  grants: Grant[],
  opts: { email?: string; name?: string; idleMs?: number; maxMs?: number; mustChangePassword?: boolean } = {},
): Promise<Caller & { cookie: string; csrf: string }> {
  const email = opts.email ?? `p-${randomBytes(4).toString('hex')}@council.example`
  const p = await registry.people.create({
    email,
    name: opts.name ?? email.split('@')[0]!,
    grants,
    status: 'active',
    passwordHash: null,
    mustChangePassword: opts.mustChangePassword ?? false,
    createdBy: 'admin-token',
  })
  const sessions = createSessions({
    store: registry.sessions,
    hasher: registry.hasher,
    opts: { idleMs: opts.idleMs ?? 3_600_000, maxMs: opts.maxMs ?? 12 * 3_600_000 },
  })
  const s = await sessions.start(p.id)
  noteSecret(s.token)
  noteSecret(s.csrf)
  const cookie = `sp_session=${s.token}`
  return { id: p.id, actor: `person:${p.id}`, cookie, csrf: s.csrf, headers: { cookie, 'x-csrf-token': s.csrf } }
}

/** An API token with one grant, valid for a day unless told otherwise. */
export async function apiToken(
  registry: Registry,
  grant: Grant,
  opts: { name?: string; expiresAt?: Date } = {},
): Promise<Caller & { token: string }> {
  const token = `spt_${randomBytes(32).toString('base64url')}`
  noteSecret(token)
  const t = await registry.tokens.create({
    name: opts.name ?? `${grant.role} token`,
    grant,
    tokenHash: registry.hasher.hash(token),
    expiresAt: opts.expiresAt ?? new Date(Date.now() + 86_400_000),
    createdBy: 'admin-token',
  })
  return { id: t.id, actor: `token:${t.id}`, token, headers: { authorization: `Bearer ${token}` } }
}
