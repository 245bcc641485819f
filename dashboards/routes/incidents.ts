import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { Alert, Incident } from '#devices'
import type { Registry } from '../../store/registry.ts'
import { ErrorBody, sendError } from '../errors.ts'

/** Incidents: many devices of one site silent together, and the offline alerts grouped under each. */
export const incidentRoutes =
  (deps: { registry: Registry }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/incidents',
      {
        schema: {
          tags: ['alerts'],
          description: 'Incidents, newest first: open ones until all their devices report again',
          querystring: z.object({
            status: z.enum(['open', 'cleared']).optional(),
            site: z.string().max(64).optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
          }),
          response: { 200: z.array(Incident) },
        },
      },
      async (req) => deps.registry.incidents.list(req.query),
    )
    app.get(
      '/api/incidents/:id',
      {
        schema: {
          tags: ['alerts'],
          description: 'An incident with the offline alerts of its devices',
          params: z.object({ id: z.string().uuid() }),
          response: { 200: Incident.extend({ alerts: z.array(Alert) }), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const incident = await deps.registry.incidents.get(req.params.id)
        if (!incident) return sendError(reply, 404, 'NOT_FOUND', `no incident ${req.params.id}`)
        return { ...incident, alerts: await deps.registry.alerts.list({ incidentId: incident.id, limit: 1000 }) }
      },
    )
  }
