import '@fastify/cookie'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DataClass, ROLE_RIGHTS, type Scope } from '#devices'
import { throttledMessage } from '../auth.ts'
import { sendError, sendTooMany } from '../errors.ts'
import type { Authenticator } from './authenticate.ts'
import type { Access } from './route-access.ts'
import { SESSION_COOKIE } from './sessions.ts'

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

export function bearerToken(header: string | undefined): string | null {
  if (!header || !/^bearer\s/i.test(header)) return null
  return header.slice(6).trim() || null
}

/**
 * Refuses, at registration, an /api route that does not say who may call it; then, per
 * request, identifies the caller and applies the route's declaration.
 */
export function installAccess(app: FastifyInstance, auth: Authenticator) {
  app.addHook('onRoute', (route) => {
    const access = route.config?.access
    if (access === undefined && route.url.startsWith('/api')) {
      throw new Error(`route ${String(route.method)} ${route.url} does not declare config.access`)
    }
  })

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const access: Access = req.routeOptions.config?.access ?? 'public'
    if (access === 'public') return
    const bearer = bearerToken(req.headers.authorization)
    const session = bearer ? null : (req.cookies?.[SESSION_COOKIE] ?? null)
    const r = await auth.identify({ bearer, session, address: req.ip, transport: 'http' })
    if (!r.ok) {
      if (r.status === 429) return sendTooMany(reply, 'AUTH_THROTTLED', r.retryAfterS, throttledMessage(r.scope, r.retryAfterS))
      if (session) reply.clearCookie(SESSION_COOKIE, { path: '/' })
      return sendError(reply, 401, 'UNAUTHENTICATED')
    }
    const p = r.principal
    req.principal = p
    // A cookie rides along with any request the browser makes; a header set by our own script does not.
    if (p.via === 'session' && !SAFE.has(req.method) && !sendsCsrf(req, p.session!.csrf)) {
      return sendError(reply, 403, 'CSRF_INVALID')
    }
    if (p.mustChangePassword && access !== 'signed-in-any-state') return sendError(reply, 403, 'PASSWORD_CHANGE_REQUIRED')
    if (!allowed(access, p.scope)) return sendError(reply, 403, 'FORBIDDEN')
  })
}

function sendsCsrf(req: FastifyRequest, expected: string): boolean {
  const presented = req.headers['x-csrf-token']
  if (typeof presented !== 'string' || presented.length !== expected.length) return false
  let diff = 0
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ presented.charCodeAt(i)
  return diff === 0
}

function allowed(access: Exclude<Access, 'public'>, scope: Scope): boolean {
  if (access === 'signed-in' || access === 'signed-in-any-state') return true
  if (access === 'admin') return scope.isAdmin
  const mode = access.write ? 'write' : 'read'
  const classes = access.data === 'any' ? DataClass.options : access.data
  return scope.roles.some((role) => classes.some((c) => ROLE_RIGHTS[role][mode].includes(c)))
}
