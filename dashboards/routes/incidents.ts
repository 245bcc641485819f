import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { Alert, alertView, Incident } from '#devices'
import type { Registry } from '../../store/registry.ts'
import { principalOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'

/** Incidents: many devices of one site silent together, and the offline alerts grouped under each. */
export const incidentRoutes =
  (deps: { registry: Registry }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/incidents',
      {
        config: { access: { data: 'any' } },
        schema: {
          tags: ['alerts'],
          description: 'Incidents at the sites the caller may see, newest first: open ones until all their devices report again',
          querystring: z.object({
            status: z.enum(['open', 'cleared']).optional(),
            site: z.string().max(64).optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
          }),
          response: { 200: z.array(Incident) },
        },
      },
      async (req) => deps.registry.incidents.list({ ...req.query, sites: principalOf(req).scope.sites() ?? undefined }),
    )
    app.get(
      '/api/incidents/:id',
      {
        config: { access: { data: 'any' } },
        schema: {
          tags: ['alerts'],
          description: 'An incident with the offline alerts of its devices',
          params: z.object({ id: z.string().uuid() }),
          response: { 200: Incident.extend({ alerts: z.array(Alert) }), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const { scope } = principalOf(req)
        const incident = await deps.registry.incidents.get(req.params.id)
        // Outside the caller's sites it answers as a missing one: ids do not reveal what exists.
        if (!incident || !scope.site(incident.site)) return sendError(reply, 404, 'NOT_FOUND', `no incident ${req.params.id}`)
        // A site's incident groups every kind of device; the caller sees the alerts of the kinds they may.
        const alerts = await deps.registry.alerts.list({ incidentId: incident.id, visible: scope.visible(), limit: 1000 })
        return { ...incident, alerts: alerts.map((a) => alertView(a, scope)) }
      },
    )
  }
