import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { QuarantineEntry, type QuarantineRepo } from '../../registry/quarantine-repo.ts'

export const quarantineRoutes =
  (deps: { quarantine: QuarantineRepo }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/quarantine',
      {
        schema: {
          tags: ['quarantine'],
          description: 'Messages refused by validation, newest first, with the raw payload (base64) and the reason.',
          querystring: z.object({
            deviceId: z.string().optional(),
            code: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
          }),
          response: { 200: z.array(QuarantineEntry) },
        },
      },
      async (req) => deps.quarantine.list(req.query),
    )
  }
