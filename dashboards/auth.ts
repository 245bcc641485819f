import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthGuard } from './auth-guard.ts'
import { sendError, sendTooMany } from './errors.ts'

export type VerifyToken = (token: string) => boolean

/** The one identity a bearer token can claim until people and roles arrive; the guard brakes it as a whole. */
export const ADMIN_IDENTITY = 'admin'

// The scheme name is case-insensitive (RFC 9110 §11.1). The rest is taken as it was before, trimmed:
// ADMIN_TOKEN may be any 32+ characters, so narrowing it to token68 could lock out a deployment.
export function bearerToken(header: string | undefined): string | null {
  if (!header || !/^bearer\s/i.test(header)) return null
  return header.slice(6).trim() || null
}

export const throttledMessage = (scope: 'address' | 'identity', s: number) =>
  `too many failed authentications ${scope === 'address' ? 'from this address' : 'for this identity'}; try again in ${s} s`

/** Every /api route requires the admin token until people and roles arrive. */
export function requireToken(verify: VerifyToken, guard: AuthGuard) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(req.headers.authorization)
    // Without a bearer token nothing was guessed: refused, but not held against the address.
    if (!token) return sendError(reply, 401, 'UNAUTHENTICATED')
    // Checked before the token: a blocked client must not learn whether its guess was right.
    const refusal = guard.check(req.ip, ADMIN_IDENTITY, 'http')
    if (refusal) return sendTooMany(reply, 'AUTH_THROTTLED', refusal.retryAfterS, throttledMessage(refusal.scope, refusal.retryAfterS))
    if (verify(token)) return guard.succeeded(req.ip)
    guard.failed(req.ip, ADMIN_IDENTITY, 'http')
    return sendError(reply, 401, 'UNAUTHENTICATED')
  }
}

/**
 * Who made a request, for histories and audit trails. Until people and roles arrive every
 * token is the admin token, so it is that token's name; a signed-in person will fit here.
 */
export function actorOf(_req: FastifyRequest): string {
  return ADMIN_IDENTITY
}
