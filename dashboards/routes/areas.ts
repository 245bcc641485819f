import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { Area, AreaId, type Grant } from '#devices'
import type { AreaStore } from '../../store/area-store.ts'
import type { Registry } from '../../store/registry.ts'
import { audit } from '../access/audit.ts'
import type { Principal } from '../access/principal.ts'
import { principalOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'

const Params = z.object({ id: AreaId })
const AreaFields = z.strictObject(Area.omit({ id: true }).shape)

/**
 * A grant naming an area that does not exist would silently grant nothing (or, once someone
 * creates an area of that name, something nobody chose): refused, naming each unknown area.
 */
export async function unknownAreas(
  areas: AreaStore,
  grants: readonly Grant[],
  path: string,
): Promise<{ message: string; issues: { path: string; message: string }[] } | null> {
  const missing = new Set(await areas.missing(grants.flatMap((g) => g.areas ?? [])))
  if (missing.size === 0) return null
  const issues = grants.flatMap((g, i) =>
    (g.areas ?? []).flatMap((a, j) => (missing.has(a) ? [{ path: `${path}.${i}.areas.${j}`, message: `no area ${a}` }] : [])),
  )
  return { message: `unknown areas: ${[...missing].join(', ')}; create them first (PUT /api/areas/:id)`, issues }
}

/** The areas a caller may see: every one for an admin or an everywhere grant, else those their grants name. */
const seesArea = (p: Principal) => {
  if (p.scope.isAdmin || p.grants.some((g) => g.areas === null)) return () => true
  const named = new Set(p.grants.flatMap((g) => g.areas ?? []))
  return (id: string) => named.has(id)
}

/** Areas (wards, estates, rounds) as groups of sites. */
export const areaRoutes =
  (deps: { registry: Registry }): FastifyPluginAsyncZod =>
  async (app) => {
    const { registry } = deps

    app.get(
      '/api/areas',
      {
        config: { access: 'signed-in' },
        schema: {
          tags: ['areas'],
          description: 'Areas with their sites: every area for administrators, else those named in your grants.',
          response: { 200: z.array(Area) },
        },
      },
      async (req) => {
        const sees = seesArea(principalOf(req))
        return (await registry.areas.list()).filter((a) => sees(a.id))
      },
    )

    app.get(
      '/api/areas/:id',
      {
        config: { access: 'signed-in' },
        schema: { tags: ['areas'], params: Params, response: { 200: Area, 404: ErrorBody } },
      },
      async (req, reply) => {
        const area = seesArea(principalOf(req))(req.params.id) ? await registry.areas.get(req.params.id) : undefined
        return area ?? sendError(reply, 404, 'NOT_FOUND', `no area ${req.params.id}`)
      },
    )

    app.put(
      '/api/areas/:id',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['areas'],
          description:
            'Creates the area or replaces its name, kind and sites. Everyone granted the area sees exactly these sites from their next request.',
          params: Params,
          body: AreaFields,
          response: { 200: Area, 201: Area, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const before = await registry.areas.get(req.params.id)
        const area = await registry.areas.put({ id: req.params.id, ...req.body }, principalOf(req).actor)
        await audit(registry.audit, req, 'area-changed', `area:${area.id}`, {
          before: before ? { name: before.name, kind: before.kind, sites: before.sites } : null,
          after: { name: area.name, kind: area.kind, sites: area.sites },
        })
        return reply.code(before ? 200 : 201).send(area)
      },
    )

    app.delete(
      '/api/areas/:id',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['areas'],
          description: 'Deletes an area that no person and no live API token is granted; change their grants (or revoke the tokens) first.',
          params: Params,
          response: { 204: z.null(), 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const id = req.params.id
        if (!(await registry.areas.get(id))) return sendError(reply, 404, 'NOT_FOUND', `no area ${id}`)
        const names = (grants: readonly Grant[]) => grants.some((g) => g.areas?.includes(id))
        const now = Date.now()
        const holders = (await registry.people.list()).filter((p) => names(p.grants)).length
        const tokens = (await registry.tokens.list()).filter(
          (t) => t.revokedAt === null && Date.parse(t.expiresAt) > now && names([t.grant]),
        ).length
        if (holders + tokens > 0) {
          return sendError(
            reply,
            409,
            'CONFLICT',
            `area ${id} is granted to ${holders} people and ${tokens} live API tokens; change their grants or revoke the tokens first`,
          )
        }
        await registry.areas.delete(id)
        await audit(registry.audit, req, 'area-changed', `area:${id}`, { deleted: true })
        return reply.code(204).send(null)
      },
    )
  }
