import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { Device, DeviceInput, DeviceState, DeviceTypeName, deviceTypeOf } from '#devices'
import type { InfluxQuery } from '../../influx/query.ts'
import { queryReadings } from '../../influx/schema.ts'
import type { DeviceStore } from '../../store/device-store.ts'
import { ErrorBody, sendError } from '../errors.ts'
import { READINGS_LIMIT } from '../rate-limits.ts'

export interface DeviceRoutesDeps {
  devices: DeviceStore
  state(device: Device): DeviceState
  disconnect(deviceId: string): void
  influx: InfluxQuery
}

const DeviceWithState = Device.extend({ state: DeviceState })
const Params = z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/) })
const DURATION = /^([1-9][0-9]{0,5})(s|m|h|d)$/
const MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const MAX_RANGE_MS = 366 * 86_400_000
const MAX_POINTS = 10_000

export const deviceRoutes =
  (deps: DeviceRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/devices',
      {
        schema: {
          tags: ['devices'],
          querystring: z.object({ type: DeviceTypeName.optional(), site: z.string().optional() }),
          response: { 200: z.array(DeviceWithState) },
        },
      },
      async (req) => (await deps.devices.list(req.query)).map((d) => ({ ...d, state: deps.state(d) })),
    )

    app.post(
      '/api/devices',
      {
        schema: {
          tags: ['devices'],
          description: 'Provisions a device. The secret is returned once; only its HMAC is kept.',
          body: DeviceInput,
          response: { 201: Device.extend({ secret: z.string() }), 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const r = await deps.devices.provision(req.body)
        if (!r.ok) return sendError(reply, 409, 'CONFLICT', `device ${req.body.id} already exists (ids of revoked devices stay reserved)`)
        return reply.code(201).send({ ...r.device, secret: r.secret })
      },
    )

    app.get(
      '/api/devices/:id',
      { schema: { tags: ['devices'], params: Params, response: { 200: DeviceWithState, 404: ErrorBody } } },
      async (req, reply) => {
        const d = await deps.devices.get(req.params.id)
        if (!d) return sendError(reply, 404, 'NOT_FOUND', `no device ${req.params.id}`)
        return { ...d, state: deps.state(d) }
      },
    )

    app.delete(
      '/api/devices/:id',
      {
        schema: {
          tags: ['devices'],
          description: 'Revokes a device and disconnects it at once.',
          params: Params,
          response: { 204: z.null(), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await deps.devices.revoke(req.params.id))) return sendError(reply, 404, 'NOT_FOUND', `no device ${req.params.id}`)
        deps.disconnect(req.params.id)
        return reply.code(204).send(null)
      },
    )

    app.get(
      '/api/devices/:id/readings',
      {
        config: { rateLimit: READINGS_LIMIT },
        schema: {
          tags: ['devices'],
          description:
            'Reading history from InfluxDB. Ranges over 7 days need `every` (e.g. 1h); at most 10,000 points. At most 120 calls a minute per client (429 with Retry-After beyond).',
          params: Params,
          querystring: z.object({
            from: z.iso.datetime({ offset: true }).optional().describe('default: 24 hours before `to`'),
            to: z.iso.datetime({ offset: true }).optional().describe('default: now'),
            every: z.string().regex(DURATION, 'a duration such as 30s, 15m, 1h or 1d').optional(),
          }),
          response: {
            200: z.object({
              deviceId: z.string(),
              from: z.string(),
              to: z.string(),
              every: z.string().nullable(),
              points: z.array(z.record(z.string(), z.unknown())),
            }),
            400: ErrorBody,
            404: ErrorBody,
            429: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const d = await deps.devices.get(req.params.id)
        if (!d) return sendError(reply, 404, 'NOT_FOUND', `no device ${req.params.id}`)
        const to = req.query.to ? Date.parse(req.query.to) : Date.now()
        const from = req.query.from ? Date.parse(req.query.from) : to - 86_400_000
        const every = req.query.every ?? null
        if (from >= to || to - from > MAX_RANGE_MS)
          return sendError(reply, 400, 'BAD_REQUEST', '`from` must be before `to` and the range at most 366 days')
        if (!every && to - from > 7 * 86_400_000) return sendError(reply, 400, 'BAD_REQUEST', 'ranges over 7 days need `every`')
        if (every) {
          const m = DURATION.exec(every)!
          const step = Number(m[1]) * MS[m[2] as keyof typeof MS]
          if ((to - from) / step > MAX_POINTS)
            return sendError(reply, 400, 'BAD_REQUEST', `\`every\` too small: more than ${MAX_POINTS} points`)
        }
        const points = await queryReadings(deps.influx, deviceTypeOf(d.type)!, { deviceId: d.id, from, to, every, maxPoints: MAX_POINTS })
        return { deviceId: d.id, from: new Date(from).toISOString(), to: new Date(to).toISOString(), every, points }
      },
    )
  }
