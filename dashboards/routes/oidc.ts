import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { AccountDeps } from '../access/accounts.ts'
import { audit } from '../access/audit.ts'
import type { OidcOptions } from '../access/oidc.ts'
import { createOidcClient, SsoError } from '../access/oidc-client.ts'
import { createPendingSignIns } from '../access/oidc-pending.ts'
import { ssoPerson } from '../access/oidc-sign-in.ts'
import { sessionCookie } from '../access/session-cookie.ts'
import { ErrorBody, sendError } from '../errors.ts'

export const OIDC_COOKIE = 'sp_oidc'
const OIDC_PATH = '/api/auth/oidc'
const PENDING_TTL_S = 600
// Far more sign-ins than a council starts in ten minutes; a flood evicts the oldest, never grows memory.
const PENDING_MAX = 10_000
// Per address, and a town hall signs in from one address at nine: generous for people, still a brake on a script filling the pending map.
const SSO_LIMIT = { max: 120, timeWindow: 60_000 }

const Providers = z.object({
  password: z.literal(true),
  sso: z.object({ name: z.string(), start: z.string() }).nullable().describe('null: single sign-on is not configured'),
})

/** Single sign-on: authorization code with PKCE against OIDC_ISSUER; nothing but the providers list is registered without it. */
export const oidcRoutes =
  (deps: AccountDeps & { oidc: OidcOptions | null }): FastifyPluginAsyncZod =>
  async (app) => {
    const { oidc } = deps
    app.get(
      '/api/auth/providers',
      { config: { access: 'public' }, schema: { tags: ['auth'], summary: 'How people can sign in here', response: { 200: Providers } } },
      async () => ({ password: true as const, sso: oidc ? { name: 'Council sign-in', start: `${OIDC_PATH}/start` } : null }),
    )
    if (!oidc) return

    const rp = createOidcClient(oidc)
    const pending = createPendingSignIns({ ttlMs: PENDING_TTL_S * 1000, max: PENDING_MAX })
    const { secure } = sessionCookie(deps.publicUrl)
    const origin = (req: FastifyRequest) => deps.publicUrl?.replace(/\/+$/, '') ?? `${req.protocol}://${req.host}`
    const clearPending = (req: FastifyRequest, reply: FastifyReply) =>
      reply.clearCookie(OIDC_COOKIE, { path: OIDC_PATH, httpOnly: true, sameSite: 'lax', secure: secure(req) })

    app.get(
      `${OIDC_PATH}/start`,
      {
        config: { access: 'public', rateLimit: SSO_LIMIT },
        schema: {
          tags: ['auth'],
          summary: 'Starts signing in through the council identity provider (a browser navigation: answers 302)',
          response: { 503: ErrorBody },
        },
      },
      async (req, reply) => {
        let begun: Awaited<ReturnType<typeof rp.begin>>
        try {
          begun = await rp.begin(`${origin(req)}${OIDC_PATH}/callback`)
        } catch (err) {
          if (!(err instanceof SsoError)) throw err
          deps.log.warn({ reason: err.reason }, 'single sign-on unavailable')
          return sendError(reply, err.status === 503 ? 503 : 400, 'SSO_FAILED', err.message)
        }
        const id = pending.put(begun.pending)
        reply.setCookie(OIDC_COOKIE, id, { path: OIDC_PATH, httpOnly: true, sameSite: 'lax', secure: secure(req), maxAge: PENDING_TTL_S })
        return reply.redirect(begun.url.href, 302)
      },
    )

    app.get(
      `${OIDC_PATH}/callback`,
      {
        config: { access: 'public', rateLimit: SSO_LIMIT },
        schema: {
          tags: ['auth'],
          summary: 'Where the identity provider sends the browser back; signs the person in and answers 302 to /',
          response: { 400: ErrorBody, 403: ErrorBody, 503: ErrorBody },
        },
      },
      async (req, reply) => {
        const cookie = req.cookies[OIDC_COOKIE]
        const started = cookie ? pending.take(cookie) : undefined
        clearPending(req, reply)
        if (!started) return sendError(reply, 400, 'SSO_FAILED', 'sign-in took too long or started elsewhere; start again')

        const failed = async (
          status: 400 | 403 | 503,
          code: 'FORBIDDEN' | 'SSO_FAILED',
          message: string,
          detail: Record<string, unknown>,
        ) => {
          deps.log.warn({ reason: detail.reason }, 'single sign-on refused')
          const target = typeof detail.person === 'string' ? `person:${detail.person}` : null
          await audit(deps.registry.audit, req, 'sign-in-failed', target, { method: 'oidc', ...detail })
          return sendError(reply, status, code, message)
        }

        let claims: Awaited<ReturnType<typeof rp.finish>>
        try {
          claims = await rp.finish(started, new URL(req.url, 'http://callback').search)
        } catch (err) {
          if (!(err instanceof SsoError)) throw err
          return failed(err.status, 'SSO_FAILED', err.message, { reason: err.reason })
        }

        const outcome = await ssoPerson(deps.registry, oidc.groupMap, claims)
        if (!outcome.ok) {
          return failed(outcome.status, outcome.code, outcome.message, {
            reason: outcome.reason,
            ...outcome.detail,
            sub: claims.sub,
            ...(outcome.personId ? { person: outcome.personId } : {}),
          })
        }

        const { person } = outcome
        const actor = `person:${person.id}`
        if (outcome.grantsBefore) {
          await audit(
            deps.registry.audit,
            req,
            'person-grants-changed',
            actor,
            { source: 'oidc-group-map', before: outcome.grantsBefore, after: person.grants },
            'system',
          )
        }
        if (outcome.grantsKept) {
          // Nothing changed: recorded so that an administrator sees why the groups did not apply.
          await audit(
            deps.registry.audit,
            req,
            'person-grants-kept',
            actor,
            { source: 'oidc-group-map', reason: 'last-admin', kept: person.grants, mapped: outcome.grantsKept },
            'system',
          )
          deps.log.warn({ person: person.id }, 'group map would leave no active administrator; grants kept')
        }
        const session = await deps.sessions.start(person.id)
        sessionCookie(deps.publicUrl).set(req, reply, session)
        await deps.registry.people.signedIn(person.id, new Date())
        await audit(deps.registry.audit, req, 'sign-in', actor, { method: 'oidc', created: outcome.created, linked: outcome.linked }, actor)
        deps.log.info({ person: person.id, method: 'oidc' }, 'signed in')
        return reply.redirect('/', 302)
      },
    )
  }
