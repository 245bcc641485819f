import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { Delivery, DeliveryFilter } from '#devices'
import type { Registry } from '../../store/registry.ts'
import { audit } from '../access/audit.ts'
import { ErrorBody, sendError } from '../errors.ts'

const Id = z.object({ id: z.coerce.number().int().min(1) })

/** The delivery log an administrator (or council IT) audits, and the replay of a dead letter. */
export const deliveryRoutes =
  (deps: { registry: Registry; wake(): void }): FastifyPluginAsyncZod =>
  async (app) => {
    const { outbox } = deps.registry
    const tags = ['webhooks']

    app.get(
      '/api/deliveries',
      {
        config: { access: 'admin' },
        schema: {
          tags,
          description:
            'The delivery log, newest first: each event for each target, its attempts, last error and state. Page with before=<last id>.',
          querystring: DeliveryFilter,
          response: { 200: z.array(Delivery) },
        },
      },
      async (req) => outbox.list(req.query),
    )

    app.get(
      '/api/deliveries/:id',
      { config: { access: 'admin' }, schema: { tags, params: Id, response: { 200: Delivery, 404: ErrorBody } } },
      async (req, reply) => (await outbox.get(req.params.id)) ?? sendError(reply, 404, 'NOT_FOUND', `no delivery ${req.params.id}`),
    )

    app.post(
      '/api/deliveries/:id/replay',
      {
        config: { access: 'admin' },
        schema: {
          tags,
          description: 'Sends a dead letter again, with the same webhook-id (receivers deduplicate on it) and a fresh retry period.',
          params: Id,
          response: { 200: Delivery, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const r = await outbox.replay(req.params.id)
        if (r === null) return sendError(reply, 404, 'NOT_FOUND', `no delivery ${req.params.id}`)
        if (r === 'not-dead') return sendError(reply, 409, 'DELIVERY_NOT_DEAD')
        await audit(deps.registry.audit, req, 'delivery-replayed', `delivery:${r.id}`, { target: r.target, eventId: r.eventId })
        deps.wake()
        return r
      },
    )
  }
