import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { Device, DeviceInput, DeviceState, DeviceTypeName, deviceTypeOf, type Scope } from '#devices'
import type { InfluxQuery } from '../../influx/query.ts'
import { queryReadings } from '../../influx/schema.ts'
import type { AuditStore } from '../../store/audit-store.ts'
import type { DeviceStore } from '../../store/device-store.ts'
import { audit } from '../access/audit.ts'
import { principalOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'
import { READINGS_LIMIT } from '../rate-limits.ts'

export interface DeviceRoutesDeps {
  devices: DeviceStore
  state(device: Device): DeviceState
  disconnect(deviceId: string): void
  influx: InfluxQuery
  audit: AuditStore
}

const DeviceWithState = Device.extend({ state: DeviceState })
const Params = z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/) })
const DURATION = /^([1-9][0-9]{0,5})(s|m|h|d)$/
const MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const MAX_RANGE_MS = 366 * 86_400_000
const MAX_POINTS = 10_000
const MAX_PAGE = 1000

// One answer for a missing device and one outside the caller's scope: ids do not reveal what exists.
const noDevice = (reply: FastifyReply, id: string) => sendError(reply, 404, 'NOT_FOUND', `no device ${id}`)

/** A home's UPRN is housing data: only callers who read housing data at the device's site see it. */
const deviceView = (d: Device, scope: Scope): Device => (d.uprn === null || scope.data('housing', d.site) ? d : { ...d, uprn: null })

export const deviceRoutes =
  (deps: DeviceRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/devices',
      {
        config: { access: { data: 'any' } },
        schema: {
          tags: ['devices'],
          description: `By id, only the devices the caller may see; at most ${MAX_PAGE} a page (ask for the next with after=<last id>).`,
          querystring: z.object({
            type: DeviceTypeName.optional(),
            site: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(MAX_PAGE),
            after: z.string().max(64).optional().describe('the last id of the previous page'),
          }),
          response: { 200: z.array(DeviceWithState) },
        },
      },
      async (req) => {
        const { scope } = principalOf(req)
        const devices = await deps.devices.list({ ...req.query, visible: scope.visible() })
        return devices.map((d) => ({ ...deviceView(d, scope), state: deps.state(d) }))
      },
    )

    app.post(
      '/api/devices',
      {
        config: { access: 'admin' },
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
        await audit(deps.audit, req, 'device-provisioned', `device:${r.device.id}`, { type: r.device.type, site: r.device.site })
        return reply.code(201).send({ ...r.device, secret: r.secret })
      },
    )

    app.get(
      '/api/devices/:id',
      {
        config: { access: { data: 'any' } },
        schema: { tags: ['devices'], params: Params, response: { 200: DeviceWithState, 404: ErrorBody } },
      },
      async (req, reply) => {
        const { scope } = principalOf(req)
        const d = await deps.devices.get(req.params.id)
        if (!d || !scope.device(d.type, d.site)) return noDevice(reply, req.params.id)
        return { ...deviceView(d, scope), state: deps.state(d) }
      },
    )

    app.delete(
      '/api/devices/:id',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['devices'],
          description: 'Revokes a device and disconnects it at once.',
          params: Params,
          response: { 204: z.null(), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const d = await deps.devices.get(req.params.id)
        if (!d || !(await deps.devices.revoke(d.id))) return noDevice(reply, req.params.id)
        deps.disconnect(d.id)
        await audit(deps.audit, req, 'device-revoked', `device:${d.id}`, { type: d.type, site: d.site })
        return reply.code(204).send(null)
      },
    )

    app.get(
      '/api/devices/:id/readings',
      {
        config: { access: { data: 'any' }, rateLimit: READINGS_LIMIT },
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
        if (!d || !principalOf(req).scope.device(d.type, d.site)) return noDevice(reply, req.params.id)
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
