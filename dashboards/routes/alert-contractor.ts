import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ContractorRequest } from '#devices'
import type { AlertStore } from '../../store/alert-store.ts'
import type { Open311Store } from '../../store/open311-store.ts'
import { principalOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'

const Params = z.object({ id: z.uuid() })

/** What the contractor's system says of an alert's service request (Open311 out, issue 14). */
export const alertContractorRoutes =
  (deps: { alerts: Pick<AlertStore, 'get'>; open311: Pick<Open311Store, 'forAlert'> }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/alerts/:id/contractor',
      {
        config: { access: { data: 'any' } },
        schema: {
          tags: ['alerts'],
          description:
            "The service request made for this alert on the contractor's Open311 endpoint, with its status as last polled; an empty list when none was made",
          params: Params,
          response: { 200: z.array(ContractorRequest), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const a = await deps.alerts.get(req.params.id)
        // One answer for a missing alert and one outside the caller's scope, as for the alert itself.
        if (!a || !principalOf(req).scope.device(a.deviceType, a.site))
          return sendError(reply, 404, 'NOT_FOUND', `no alert ${req.params.id}`)
        const r = await deps.open311.forAlert(a.id)
        return r ? [r] : []
      },
    )
  }
