import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { NewWebhook, RotateWebhookSecret, Webhook, WebhookWithSecret } from '#devices'
import type { TargetPolicy } from '../../outbox/ssrf.ts'
import type { Registry } from '../../store/registry.ts'
import { audit } from '../access/audit.ts'
import { actorOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'

export interface OutboxRoutesDeps {
  /** The same target check the webhook sender makes at each attempt (SSRF). */
  policy: Pick<TargetPolicy, 'check'>
  /** The sender looks at the store now (a replay, a new subscription). */
  wake(): void
  /** WEBHOOK_ROTATION_OVERLAP_HOURS in ms. */
  rotationOverlapMs: number
  /** Web Push on (VAPID_SUBJECT set): phones can be subscribed. */
  push: boolean
}

const Id = z.object({ id: z.uuid() })

/** An administrator subscribes other systems to events; the secret is shown once, at creation and at each rotation. */
export const webhookRoutes =
  (deps: OutboxRoutesDeps & { registry: Registry }): FastifyPluginAsyncZod =>
  async (app) => {
    const { webhooks, outbox } = deps.registry
    const tags = ['webhooks']

    app.get(
      '/api/webhooks',
      {
        config: { access: 'admin' },
        schema: { tags, description: 'Every webhook subscription (without secrets).', response: { 200: z.array(Webhook) } },
      },
      async () => webhooks.list(),
    )

    app.get(
      '/api/webhooks/:id',
      { config: { access: 'admin' }, schema: { tags, params: Id, response: { 200: Webhook, 404: ErrorBody } } },
      async (req, reply) => (await webhooks.get(req.params.id)) ?? sendError(reply, 404, 'NOT_FOUND', `no webhook ${req.params.id}`),
    )

    app.post(
      '/api/webhooks',
      {
        config: { access: 'admin' },
        schema: {
          tags,
          description:
            'Subscribes a URL to event types, optionally only of some rules and areas. The answer holds the signing secret (whsec_…), shown this once. A URL that resolves to a private or loopback address is refused unless the operator allowed it.',
          body: NewWebhook,
          response: { 201: WebhookWithSecret, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const check = await deps.policy.check(new URL(req.body.url).hostname)
        if (!check.ok) return sendError(reply, 400, check.code, check.message)
        const created = await webhooks.create(req.body, actorOf(req))
        await audit(deps.registry.audit, req, 'webhook-created', `webhook:${created.id}`, {
          url: created.url,
          eventTypes: created.eventTypes,
        })
        return reply.code(201).send(created)
      },
    )

    app.post(
      '/api/webhooks/:id/rotate-secret',
      {
        config: { access: 'admin' },
        schema: {
          tags,
          description:
            'A new secret, shown this once; the old one still signs beside it for the overlap, so receivers can switch without a gap.',
          params: Id,
          body: RotateWebhookSecret.optional(),
          response: { 200: WebhookWithSecret, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const overlapMs = req.body?.overlapHours === undefined ? deps.rotationOverlapMs : req.body.overlapHours * 3_600_000
        const rotated = await webhooks.rotate(req.params.id, overlapMs)
        if (!rotated) return sendError(reply, 404, 'NOT_FOUND', `no webhook ${req.params.id}`)
        deps.wake()
        await audit(deps.registry.audit, req, 'webhook-secret-rotated', `webhook:${rotated.id}`, {
          previousUntil: rotated.previousSecretUntil,
        })
        return rotated
      },
    )

    app.delete(
      '/api/webhooks/:id',
      {
        config: { access: 'admin' },
        schema: {
          tags,
          description: 'Ends the subscription; its pending deliveries are dead-lettered, the log keeps them.',
          params: Id,
          response: { 204: z.null(), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await webhooks.delete(req.params.id))) return sendError(reply, 404, 'NOT_FOUND', `no webhook ${req.params.id}`)
        const abandoned = await outbox.abandon('webhook', req.params.id, 'the subscription was deleted')
        deps.wake()
        await audit(deps.registry.audit, req, 'webhook-deleted', `webhook:${req.params.id}`, { abandoned })
        return reply.code(204).send(null)
      },
    )
  }
