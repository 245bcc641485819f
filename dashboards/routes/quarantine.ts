import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { QuarantineEntry, QuarantineFilter, QuarantineSummary } from '#devices'
import type { QuarantineStore } from '../../store/quarantine-store.ts'
import { ErrorBody } from '../errors.ts'
import { REPLAY_LIMIT } from '../rate-limits.ts'

export interface QuarantineRoutesDeps {
  quarantine: QuarantineStore
  replay(entry: QuarantineEntry): Promise<'accepted' | 'rejected' | 'skipped'>
}

export const quarantineRoutes =
  (deps: QuarantineRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/quarantine',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['quarantine'],
          description:
            'Messages refused by validation or by InfluxDB, newest first, with the raw payload (base64), the reason code and the issues.',
          querystring: QuarantineFilter,
          response: { 200: z.array(QuarantineEntry) },
        },
      },
      async (req) => deps.quarantine.list(req.query),
    )

    app.get(
      '/api/quarantine/summary',
      {
        config: { access: 'admin' },
        schema: { tags: ['quarantine'], description: 'Counts per device and reason code.', response: { 200: z.array(QuarantineSummary) } },
      },
      async () => deps.quarantine.summary(),
    )

    app.post(
      '/api/quarantine/replay',
      {
        config: { access: 'admin', rateLimit: REPLAY_LIMIT },
        schema: {
          tags: ['quarantine'],
          description:
            'Validates the selected messages again, after a registry or schema fix. Good ones are ingested and leave quarantine; bad ones stay with their new reason. At most 1,000 per call, and 10 calls a minute per client (429 with Retry-After beyond).',
          body: QuarantineFilter.pick({ deviceId: true, type: true, code: true, from: true, to: true }).extend({
            ids: z.array(z.number().int()).max(1000).optional(),
          }),
          response: {
            200: z.object({
              replayed: z.number().int(),
              accepted: z.number().int(),
              rejected: z.number().int(),
              skipped: z.number().int(),
            }),
            429: ErrorBody,
          },
        },
      },
      async (req) => {
        const { ids, ...filter } = req.body
        let entries = await deps.quarantine.list({ ...filter, limit: 1000 })
        if (ids) entries = entries.filter((e) => ids.includes(e.id))
        const result = { replayed: entries.length, accepted: 0, rejected: 0, skipped: 0 }
        // Oldest first, so replayed readings reach alert rules in their order.
        for (const e of entries.reverse()) result[await deps.replay(e)]++
        return result
      },
    )
  }
