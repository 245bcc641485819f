import type { Grant, Scope } from '#devices'

/** Who is calling, decided once per request (or per Socket.IO connection) and trusted after that. */
export interface Principal {
  kind: 'person' | 'token'
  /** Person id, API token id, or 'admin-token' for ADMIN_TOKEN. */
  id: string
  /** As stored in histories and the audit log: person:<id>, token:<id>, admin-token. */
  actor: string
  name: string
  email: string | null
  grants: Grant[]
  scope: Scope
  mustChangePassword: boolean
  via: 'session' | 'bearer'
  /** The session cookie's value hashed, and its CSRF token; present when signed in by cookie. */
  session?: { idHash: Buffer; csrf: string }
}

export const ADMIN_TOKEN_ACTOR = 'admin-token'
