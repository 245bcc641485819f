import '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { SESSION_COOKIE } from './sessions.ts'

/**
 * The session cookie, set the same way by every sign-in (password, invitation, single sign-on):
 * httpOnly, SameSite=Lax, whole site, Secure when the request came over TLS or people reach the
 * service at an https address (behind a TLS proxy). Not signed: the value is 256 random bits
 * already, and only its keyed hash is stored.
 */
export function sessionCookie(publicUrl: string | null) {
  const secure = (req: FastifyRequest) => req.protocol === 'https' || (publicUrl?.startsWith('https:') ?? false)
  const options = (req: FastifyRequest) => ({ path: '/', httpOnly: true, sameSite: 'lax' as const, secure: secure(req) })
  return {
    secure,
    set(req: FastifyRequest, reply: FastifyReply, session: { token: string; expiresAt: number }) {
      reply.setCookie(SESSION_COOKIE, session.token, {
        ...options(req),
        maxAge: Math.max(1, Math.round((session.expiresAt - Date.now()) / 1000)),
      })
    },
    clear(req: FastifyRequest, reply: FastifyReply) {
      reply.clearCookie(SESSION_COOKIE, options(req))
    },
  }
}
