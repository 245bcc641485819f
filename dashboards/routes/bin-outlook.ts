import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { DeviceId, ForecastOutlook } from '#devices'
import type { Registry } from '../../store/registry.ts'
import { principalOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'

/** A bin's fill outlook from the alert engine's state, and the collection it is judged against. */
export const BinOutlook = ForecastOutlook.extend({
  deviceId: z.string(),
  nextCollection: z.string().nullable().describe('next scheduled collection of its round or its own schedule, ISO 8601'),
  fullBeforeCollection: z.boolean().nullable().describe('whether it will be full before that collection (null: not known)'),
})
export type BinOutlook = z.infer<typeof BinOutlook>

export interface BinOutlookDeps {
  registry: Registry
  /** The fill forecast the alert engine holds for each bin (bin-full-before-collection), in the order asked. */
  outlooks: (devices: readonly { id: string; type: string; site: string }[]) => Promise<(ForecastOutlook | null)[]>
  nextCollection: (deviceId: string, t: number) => number | null
}

export const binOutlookRoutes =
  (deps: BinOutlookDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/bins/:deviceId/outlook',
      {
        config: { access: { data: ['waste'] } },
        schema: {
          tags: ['rounds'],
          description:
            "A bin's fill rate (robust to outliers and lid-open readings, started again at each collection), when it will be full, and whether that comes before its next collection",
          params: z.object({ deviceId: DeviceId }),
          response: { 200: BinOutlook, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const device = await deps.registry.devices.get(req.params.deviceId)
        // A bin outside the caller's scope answers as a missing one.
        if (device?.type !== 'bin' || !principalOf(req).scope.device(device.type, device.site))
          return sendError(reply, 404, 'NOT_FOUND', `no bin ${req.params.deviceId}`)
        const o = (await deps.outlooks([device]))[0] ?? { ratePerDay: null, level: null, at: null, reachesAt: null }
        const next = deps.nextCollection(device.id, Date.now())
        const full =
          o.reachesAt === null
            ? o.ratePerDay === null || next === null
              ? null
              : false
            : next === null
              ? null
              : Date.parse(o.reachesAt) < next
        return {
          deviceId: device.id,
          ...o,
          nextCollection: next === null ? null : new Date(next).toISOString(),
          fullBeforeCollection: full,
        }
      },
    )
  }
