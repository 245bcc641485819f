import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { csvWriter, Device, DeviceInput, DeviceState, type DeviceTypeDef, DeviceTypeName, deviceTypeOf, type Scope } from '#devices'
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

const ReadingsQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional().describe('default: 24 hours before `to`'),
  to: z.iso.datetime({ offset: true }).optional().describe('default: now'),
  every: z.string().regex(DURATION, 'a duration such as 30s, 15m, 1h or 1d').optional(),
})
const WINDOW_RULES = 'Ranges over 7 days need `every` (e.g. 1h, means per step); at most 10,000 points.'

interface Window {
  from: number
  to: number
  every: string | null
}

/** The window a readings request asks for, as epoch ms; a string is the refusal to send (400). */
function windowOf(q: z.infer<typeof ReadingsQuery>, now = Date.now()): Window | string {
  const to = q.to ? Date.parse(q.to) : now
  const from = q.from ? Date.parse(q.from) : to - 86_400_000
  const every = q.every ?? null
  if (from >= to || to - from > MAX_RANGE_MS) return '`from` must be before `to` and the range at most 366 days'
  if (!every && to - from > 7 * 86_400_000) return 'ranges over 7 days need `every`'
  if (every) {
    const m = DURATION.exec(every)!
    const step = Number(m[1]) * MS[m[2] as keyof typeof MS]
    if ((to - from) / step > MAX_POINTS) return `\`every\` too small: more than ${MAX_POINTS} points`
  }
  return { from, to, every }
}

/**
 * The points of queryReadings as CSV: `time`, then the type's fields (only the averaged ones with
 * `every`, as the query asks for), then anything else InfluxDB answered (`suspect`), so a column
 * never depends on whether the window happened to hold a value for it.
 */
export function readingsCsv(def: DeviceTypeDef, every: string | null, points: readonly Record<string, unknown>[]): string {
  const fields = Object.entries(def.fields)
    .filter(([, m]) => every === null || m.unit !== 'code')
    .map(([f]) => f)
  const columns = new Set(['time', ...fields, ...(every === null ? ['suspect'] : [])])
  for (const p of points) for (const k of Object.keys(p)) columns.add(k)
  const w = csvWriter<Record<string, unknown>>(z.object(Object.fromEntries([...columns].map((c) => [c, z.unknown()]))))
  let text = w.head
  for (const p of points) text += w.row(p)
  return text + w.tail
}

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

    /**
     * The device's readings for the asked window, when the caller may read the device (otherwise
     * the one 404 for missing and out of scope) and the window holds (otherwise a 400): null once
     * the refusal is sent. Both readings routes, JSON and CSV, answer from this.
     */
    const readingsFor = async (
      req: FastifyRequest<{ Params: { id: string }; Querystring: z.infer<typeof ReadingsQuery> }>,
      reply: FastifyReply,
    ) => {
      const d = await deps.devices.get(req.params.id)
      if (!d || !principalOf(req).scope.device(d.type, d.site)) {
        noDevice(reply, req.params.id)
        return null
      }
      const w = windowOf(req.query)
      if (typeof w === 'string') {
        sendError(reply, 400, 'BAD_REQUEST', w)
        return null
      }
      const def = deviceTypeOf(d.type)!
      const points = await queryReadings(deps.influx, def, { deviceId: d.id, ...w, maxPoints: MAX_POINTS })
      return { d, def, w, points, from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString() }
    }

    app.get(
      '/api/devices/:id/readings',
      {
        config: { access: { data: 'any' }, rateLimit: READINGS_LIMIT },
        schema: {
          tags: ['devices'],
          description: `Reading history from InfluxDB. ${WINDOW_RULES} At most 120 calls a minute per client (429 with Retry-After beyond).`,
          params: Params,
          querystring: ReadingsQuery,
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
        const r = await readingsFor(req, reply)
        if (!r) return reply
        return { deviceId: r.d.id, from: r.from, to: r.to, every: r.w.every, points: r.points }
      },
    )

    app.get(
      '/api/devices/:id/readings.csv',
      {
        config: { access: { data: 'any' }, rateLimit: READINGS_LIMIT },
        schema: {
          tags: ['devices'],
          description:
            `The same reading history as \`/api/devices/{id}/readings\`, for the same window, as a CSV download (RFC 4180, UTF-8, a header row): ` +
            `a \`time\` column, then one per field of the device's type (\`suspect\` is 1 on readings outside their plausible band). ${WINDOW_RULES} ` +
            'Each download is an export: recorded in the audit log with who, which device, the window and from where. At most 120 calls a minute per client.',
          params: Params,
          querystring: ReadingsQuery,
          response: {
            200: { description: 'the readings, a row per point, oldest first', content: { 'text/csv': { schema: z.string() } } },
            400: ErrorBody,
            404: ErrorBody,
            429: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const r = await readingsFor(req, reply)
        if (!r) return reply
        const { d, def, w, points, from, to } = r
        // A HEAD carries no readings away: only a download is an export.
        if (req.method === 'GET')
          await audit(deps.audit, req, 'export', `device:${d.id}`, {
            what: 'readings',
            format: 'csv',
            from,
            to,
            every: w.every,
            rows: points.length,
          })
        const stamp = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')
        return reply
          .type('text/csv; charset=utf-8; header=present')
          .header('content-disposition', `attachment; filename="${d.id}-readings-${stamp(from)}-${stamp(to)}.csv"`)
          .header('cache-control', 'no-store')
          .send(readingsCsv(def, w.every, points))
      },
    )
  }
