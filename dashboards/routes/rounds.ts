import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { collectionView, DeviceId, type Mode, roundView } from '#devices'
import {
  Collection,
  CollectionSchedule,
  DEFAULT_COLLECTION_DETECTION,
  nextCollection,
  Round,
  RoundCollectionSummary,
  RoundId,
  RoundInput,
  ScheduleSource,
} from '../../devices/collections/index.ts'
import type { Registry } from '../../store/registry.ts'
import { actorOf, principalOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'

const RoundParams = z.object({ id: RoundId })
const BinParams = z.object({ deviceId: DeviceId })
const RoundFields = RoundInput.omit({ id: true })

const BinSchedule = z.object({
  deviceId: z.string(),
  schedule: CollectionSchedule.nullable(),
  source: ScheduleSource.nullable().describe("bin: the bin's own; round: its round's; null: none"),
  roundId: z.string().nullable(),
  next: z.string().nullable().describe('next scheduled collection, ISO time'),
})

const DAY_MS = 86_400_000
const MAX_RANGE_MS = 366 * DAY_MS
/** A crew's phone clock may run a little fast; a mark further ahead than this is a mistake. */
const FUTURE_SLACK_MS = 5 * 60_000
const MAX_BINS = 5_000

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * Collection rounds (weekdays and a time, Europe/London), the bins on them, bins' own schedules,
 * and recorded collections. Writes go through the round store, whose onChange keeps the schedule
 * book (and so the forecast rule's deadline) current before the answer is sent.
 */
export const roundRoutes =
  (deps: { registry: Registry }): FastifyPluginAsyncZod =>
  async (app) => {
    const rounds = deps.registry.rounds
    /** The bin, if it is one and the caller may see it (or act on it); else null, answered as no such bin. */
    const binOf = async (req: FastifyRequest, id: string, mode: Mode = 'read') => {
      const d = await deps.registry.devices.get(id)
      return d?.type === 'bin' && principalOf(req).scope.device('bin', d.site, mode) ? d : null
    }
    /** The sites of the rounds and bins a caller may see; undefined: every one. */
    const wasteSites = (req: FastifyRequest) => principalOf(req).scope.sites('waste') ?? undefined
    const scheduleOf = async (deviceId: string) => {
      const s = await rounds.binSchedule(deviceId)
      return {
        deviceId,
        schedule: s?.schedule ?? null,
        source: s?.source ?? null,
        // With no schedule at all the bin is on no round either: a round always has one.
        roundId: s?.roundId ?? null,
        next: s ? iso(nextCollection(s.schedule, Date.now())) : null,
      }
    }

    app.get(
      '/api/rounds',
      {
        config: { access: { data: ['waste'] } },
        schema: { tags: ['rounds'], description: 'Collection rounds with their schedules and bins.', response: { 200: z.array(Round) } },
      },
      async (req) => (await rounds.listRounds({ sites: wasteSites(req) })).map((r) => roundView(r, principalOf(req).scope)),
    )

    app.post(
      '/api/rounds',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['rounds'],
          description: 'Creates a round. Without an id one is made up. Weekdays are 1 = Monday … 7 = Sunday; time is Europe/London.',
          body: RoundInput,
          response: { 201: Round, 400: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const round = await rounds.createRound(req.body, actorOf(req))
        if (!round) return sendError(reply, 409, 'CONFLICT', `round ${req.body.id} already exists`)
        return reply.code(201).send(round)
      },
    )

    app.get(
      '/api/rounds/:id',
      {
        config: { access: { data: ['waste'] } },
        schema: { tags: ['rounds'], params: RoundParams, response: { 200: Round, 404: ErrorBody } },
      },
      async (req, reply) => {
        const round = await rounds.getRound(req.params.id, { sites: wasteSites(req) })
        return round ? roundView(round, principalOf(req).scope) : sendError(reply, 404, 'NOT_FOUND', `no round ${req.params.id}`)
      },
    )

    app.put(
      '/api/rounds/:id',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['rounds'],
          description: "Replaces the round's name, site and schedule (its bins stay).",
          params: RoundParams,
          body: RoundFields,
          response: { 200: Round, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) =>
        (await rounds.updateRound(req.params.id, req.body, actorOf(req))) ??
        sendError(reply, 404, 'NOT_FOUND', `no round ${req.params.id}`),
    )

    app.delete(
      '/api/rounds/:id',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['rounds'],
          description: 'Deletes the round. Its bins are then on no round (their own schedules stay); recorded collections stay.',
          params: RoundParams,
          response: { 204: z.null(), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await rounds.deleteRound(req.params.id))) return sendError(reply, 404, 'NOT_FOUND', `no round ${req.params.id}`)
        return reply.code(204).send(null)
      },
    )

    app.put(
      '/api/rounds/:id/bins',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['rounds'],
          description:
            "Sets the round's bins to exactly this list, in the order the crew drives them (the first is stop 1). A bin is on at most one round: one listed here leaves any other round it was on. Each must be a provisioned bin.",
          params: RoundParams,
          body: z.strictObject({ deviceIds: z.array(DeviceId).max(MAX_BINS) }),
          response: { 200: Round, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await rounds.getRound(req.params.id))) return sendError(reply, 404, 'NOT_FOUND', `no round ${req.params.id}`)
        const bins = new Set((await deps.registry.devices.list({ type: 'bin' })).map((d) => d.id))
        const issues = req.body.deviceIds.flatMap((id, i) =>
          bins.has(id) ? [] : [{ path: `body.deviceIds.${i}`, message: `${id} is not a provisioned bin` }],
        )
        if (issues.length > 0) {
          const ids = req.body.deviceIds.filter((id) => !bins.has(id))
          return sendError(
            reply,
            400,
            'BAD_REQUEST',
            `not provisioned bins: ${ids.join(', ')}. Provision them first (POST /api/devices with type bin), or leave them out.`,
            issues,
          )
        }
        return (
          (await rounds.setRoundBins(req.params.id, req.body.deviceIds, actorOf(req))) ??
          sendError(reply, 404, 'NOT_FOUND', `no round ${req.params.id}`)
        )
      },
    )

    app.get(
      '/api/bins/:deviceId/schedule',
      {
        config: { access: { data: ['waste'] } },
        schema: {
          tags: ['rounds'],
          description: "The bin's collection schedule (its own, else its round's) and its next scheduled collection.",
          params: BinParams,
          response: { 200: BinSchedule, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await binOf(req, req.params.deviceId))) return sendError(reply, 404, 'NOT_FOUND', `no bin ${req.params.deviceId}`)
        return scheduleOf(req.params.deviceId)
      },
    )

    app.put(
      '/api/bins/:deviceId/schedule',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['rounds'],
          description: "Gives the bin a schedule of its own, which wins over its round's.",
          params: BinParams,
          body: CollectionSchedule,
          response: { 200: BinSchedule, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await binOf(req, req.params.deviceId))) return sendError(reply, 404, 'NOT_FOUND', `no bin ${req.params.deviceId}`)
        await rounds.setBinSchedule(req.params.deviceId, req.body, actorOf(req))
        return scheduleOf(req.params.deviceId)
      },
    )

    app.delete(
      '/api/bins/:deviceId/schedule',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['rounds'],
          description: "Removes the bin's own schedule: its round's applies again.",
          params: BinParams,
          response: { 204: z.null(), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await rounds.removeBinSchedule(req.params.deviceId)))
          return sendError(reply, 404, 'NOT_FOUND', `bin ${req.params.deviceId} has no schedule of its own`)
        return reply.code(204).send(null)
      },
    )

    app.post(
      '/api/bins/:deviceId/collections',
      {
        config: { access: { data: ['waste'], write: true } },
        schema: {
          tags: ['rounds'],
          description:
            'Marks the bin collected by hand (a crew). Without `at`, now. A collection already recorded within an hour of it (by the sensor or a crew) answers 409 with that one.',
          params: BinParams,
          body: z
            .strictObject({
              at: z.iso.datetime({ offset: true }).optional(),
              levelBefore: z.number().min(0).max(1).optional().describe('how full it was, parts per one, if the crew saw'),
            })
            // No body at all (Fastify hands null) is a mark for now.
            .nullish(),
          response: { 201: Collection, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await binOf(req, req.params.deviceId, 'write'))) return sendError(reply, 404, 'NOT_FOUND', `no bin ${req.params.deviceId}`)
        const body = req.body ?? {}
        const now = Date.now()
        const at = body.at ? Date.parse(body.at) : now
        if (at > now + FUTURE_SLACK_MS)
          return sendError(reply, 400, 'BAD_REQUEST', '`at` is in the future; send the time the bin was emptied')
        const levelBefore = body.levelBefore ?? null
        const r = await rounds.addCollection({
          deviceId: req.params.deviceId,
          at,
          levelBefore,
          levelAfter: null,
          wasted: levelBefore === null ? null : levelBefore < DEFAULT_COLLECTION_DETECTION.wastedBelow,
          tilted: null,
          source: 'manual',
          actor: actorOf(req),
        })
        if ('existing' in r)
          return sendError(
            reply,
            409,
            'CONFLICT',
            `bin ${req.params.deviceId} already has a collection recorded at ${r.existing.at} (${r.existing.source}); it counts once`,
          )
        return reply.code(201).send(r)
      },
    )

    app.get(
      '/api/collections',
      {
        config: { access: { data: ['waste'] } },
        schema: {
          tags: ['rounds'],
          description: 'Recorded collections, newest first. roundId: bins on that round now.',
          querystring: z.object({
            deviceId: DeviceId.optional(),
            roundId: RoundId.optional(),
            since: z.iso.datetime({ offset: true }).optional(),
            until: z.iso.datetime({ offset: true }).optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
          }),
          response: { 200: z.array(Collection), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const q = req.query
        if (q.deviceId && !(await binOf(req, q.deviceId))) return sendError(reply, 404, 'NOT_FOUND', `no bin ${q.deviceId}`)
        const list = await rounds.listCollections({
          sites: wasteSites(req),
          deviceId: q.deviceId,
          roundId: q.roundId,
          since: q.since ? Date.parse(q.since) : undefined,
          until: q.until ? Date.parse(q.until) : undefined,
          limit: q.limit,
        })
        return list.map((c) => collectionView(c, principalOf(req).scope))
      },
    )

    app.get(
      '/api/collections/summary',
      {
        config: { access: { data: ['waste'] } },
        schema: {
          tags: ['rounds'],
          description:
            'Per round (bins as they are on rounds now; roundId null: bins on no round), collections and wasted trips (bins under 30 % full) in [since, until). Defaults: the 7 days to now.',
          querystring: z.object({
            since: z.iso.datetime({ offset: true }).optional(),
            until: z.iso.datetime({ offset: true }).optional(),
          }),
          response: {
            200: z.object({ since: z.string(), until: z.string(), rounds: z.array(RoundCollectionSummary) }),
            400: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const until = req.query.until ? Date.parse(req.query.until) : Date.now()
        const since = req.query.since ? Date.parse(req.query.since) : until - 7 * DAY_MS
        if (since >= until || until - since > MAX_RANGE_MS)
          return sendError(reply, 400, 'BAD_REQUEST', '`since` must be before `until` and the range at most 366 days')
        return { since: iso(since), until: iso(until), rounds: await rounds.collectionSummary(since, until, { sites: wasteSites(req) }) }
      },
    )
  }
