import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { explainFaultCode, FAULT_CODES, FaultCodeEntry, FaultExplanation } from '#devices'

/** Boiler fault codes in plain English, for housing officers and the dashboards. */
export const faultCodeRoutes = (): FastifyPluginAsyncZod => async (app) => {
  app.get(
    '/api/fault-codes',
    {
      config: { access: 'signed-in' },
      schema: { tags: ['boilers'], description: 'Every fault code the service can explain', response: { 200: z.array(FaultCodeEntry) } },
    },
    async () => [...FAULT_CODES],
  )
  app.get(
    '/api/fault-codes/:code',
    {
      config: { access: 'signed-in' },
      schema: {
        tags: ['boilers'],
        description:
          'What a boiler fault code means, whether the resident can clear it or an engineer is needed, and what to do. An unknown code is answered as unknown, never hidden.',
        params: z.object({ code: z.string().min(1).max(32) }),
        querystring: z.object({ maker: z.string().max(40).optional().describe('e.g. worcester-bosch, vaillant, baxi, potterton, ideal') }),
        response: { 200: FaultExplanation },
      },
    },
    async (req) => explainFaultCode(req.params.code, req.query.maker),
  )
}
