import { randomBytes } from 'node:crypto'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ApiToken, NewApiToken } from '#devices'
import type { Registry } from '../../store/registry.ts'
import { audit } from '../access/audit.ts'
import { actorOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'
import { unknownAreas } from './areas.ts'

const Params = z.object({ id: z.string().min(1).max(64) })
const DAY_MS = 86_400_000
/** Recognisable in a leaked file or a secret scanner's rules, unlike a bare random string. */
export const TOKEN_PREFIX = 'spt_'

const Created = z.object({
  token: z.string().describe('send as Authorization: Bearer <token>; shown here only, never again'),
  apiToken: ApiToken,
})

/** API tokens for automation: named, scoped, expiring, shown once, revocable. */
export const tokenRoutes =
  (deps: { registry: Registry }): FastifyPluginAsyncZod =>
  async (app) => {
    const { registry } = deps

    app.post(
      '/api/tokens',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['tokens'],
          description:
            'Creates an API token with one role in some areas (or all), expiring after expiresInDays. The token is answered once; only its keyed hash is kept.',
          body: NewApiToken,
          response: { 201: Created, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const { name, grant, expiresInDays } = req.body
        const unknown = await unknownAreas(registry.areas, [grant], 'body.grant')
        if (unknown) {
          const issues = unknown.issues.map((i) => ({ ...i, path: i.path.replace(/^body\.grant\.0/, 'body.grant') }))
          return sendError(reply, 400, 'BAD_REQUEST', unknown.message, issues)
        }
        const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`
        const apiToken = await registry.tokens.create({
          name,
          grant,
          tokenHash: registry.hasher.hash(token),
          expiresAt: new Date(Date.now() + expiresInDays * DAY_MS),
          createdBy: actorOf(req),
        })
        await audit(registry.audit, req, 'token-created', `token:${apiToken.id}`, { name, grant, expiresAt: apiToken.expiresAt })
        return reply.code(201).send({ token, apiToken })
      },
    )

    app.get(
      '/api/tokens',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['tokens'],
          description: 'Every API token, newest first, revoked and expired ones included. Token values are never shown again.',
          response: { 200: z.array(ApiToken) },
        },
      },
      async () => registry.tokens.list(),
    )

    app.post(
      '/api/tokens/:id/revoke',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['tokens'],
          description: 'Revokes the token: refused from its next request on. Revoking a revoked token changes nothing.',
          params: Params,
          response: { 200: ApiToken, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const t = await registry.tokens.get(req.params.id)
        if (!t) return sendError(reply, 404, 'NOT_FOUND', `no API token ${req.params.id}`)
        if (t.revokedAt !== null) return t
        const revoked = await registry.tokens.revoke(t.id, new Date())
        await audit(registry.audit, req, 'token-revoked', `token:${t.id}`, { name: t.name })
        return revoked ?? t
      },
    )
  }
