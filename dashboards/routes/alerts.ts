import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { Alert, AlertHistoryEntry, AlertStatus, type LiveBus } from '#devices'
import type { AlertStore } from '../../store/alert-store.ts'
import { ErrorBody, sendError } from '../errors.ts'

export const alertRoutes =
  (deps: { alerts: AlertStore; bus: LiveBus }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/alerts',
      {
        schema: {
          tags: ['alerts'],
          querystring: z.object({
            status: z
              .union([AlertStatus, z.literal('open')])
              .optional()
              .describe('open = active or acknowledged'),
            deviceId: z.string().optional(),
            site: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
          }),
          response: { 200: z.array(Alert) },
        },
      },
      async (req) => deps.alerts.list(req.query),
    )

    app.get(
      '/api/alerts/:id/history',
      {
        schema: {
          tags: ['alerts'],
          description: 'Every transition and human action on the alert, oldest first, with time and actor',
          params: z.object({ id: z.string().uuid() }),
          response: { 200: z.array(AlertHistoryEntry), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await deps.alerts.get(req.params.id))) return sendError(reply, 404, 'NOT_FOUND', `no alert ${req.params.id}`)
        return deps.alerts.history({ alertId: req.params.id })
      },
    )

    app.post(
      '/api/alerts/:id/ack',
      {
        schema: {
          tags: ['alerts'],
          params: z.object({ id: z.string().uuid() }),
          response: { 200: Alert, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const r = await deps.alerts.acknowledge(req.params.id, 'admin', new Date())
        if (r === null) return sendError(reply, 404, 'NOT_FOUND', `no alert ${req.params.id}`)
        if (r === 'not-open') return sendError(reply, 409, 'CONFLICT', 'the alert is already acknowledged or cleared')
        deps.bus.emit('alert:acknowledged', r)
        return r
      },
    )
  }
