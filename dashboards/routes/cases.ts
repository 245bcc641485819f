import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  AWAAB_IN_FORCE_MS,
  applyStep,
  CaseDetail,
  CaseEvidence,
  type CaseRecord,
  CaseState,
  CaseStepName,
  CaseView,
  caseView,
  DeviceId,
  HazardCategory,
  type LiveBus,
  type Mode,
  type Scope,
  SiteId,
  transition,
} from '#devices'
import type { UpdateCaseResult } from '../../store/case-store.ts'
import type { Registry } from '../../store/registry.ts'
import { audit } from '../access/audit.ts'
import { actorOf, principalOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'
import { READINGS_LIMIT } from '../rate-limits.ts'

/**
 * Awaab's Law cases (SI 2025/1042): a housing officer turns an alert, or a report about a
 * device or a site, into a case; the statutory clocks run from that triage. Deadlines, time left
 * and breaches are judged at each request, never stored, so they cannot go stale.
 */

const Time = z.iso.datetime({ offset: true })
const Note = z.string().trim().min(1).max(4000)
const Params = z.object({ id: z.uuid() })
/** A breach depends on the moment asked, so filtering by it happens after the query; a caseload is thousands, not millions. */
const BREACH_SCAN = 10_000

const NewCaseBody = z.strictObject({
  alertId: z.uuid().optional().describe("the alert being triaged; the case takes the alert's device and site"),
  deviceId: DeviceId.optional().describe("without an alert: the device the hazard was seen by; the case takes the device's site"),
  site: SiteId.optional().describe('without an alert or a device: where the hazard is'),
  category: HazardCategory.describe(
    'emergency: 24 hours; significant: 10 working days to investigate, then 3 and 5 working days and 12 weeks',
  ),
  hazard: z.string().trim().min(1).max(80).describe('the hazard as people name it, e.g. damp-mould, excess-cold'),
  triagedAt: Time.optional().describe(
    "when the hazard was triaged; default now. Not in the future, not before Awaab's Law (27 October 2025)",
  ),
  preventativeRequired: z.boolean().optional().describe('false when no preventative work is needed once safe; default true'),
  note: Note.optional(),
})

const StepBody = z.strictObject({
  step: CaseStepName.describe(
    'investigated (a hazard was found; for none, move the case to no-hazard), summarySent, madeSafe, preventativeBegun or preventativeOnSite',
  ),
  at: Time.optional().describe('when it was done; default now, never in the future'),
  note: Note.optional(),
})

const StateBody = z.strictObject({
  to: CaseState,
  note: Note.describe('why, for the evidence trail'),
  at: Time.optional().describe('when it happened; default now, never in the future'),
})

const NoteBody = z.strictObject({ note: Note, evidence: CaseEvidence.optional() })

const badTime = (reply: FastifyReply, path: string, message: string) =>
  sendError(reply, 400, 'BAD_REQUEST', message, [{ path: `body.${path}`, message }])

type CaseAction = 'open' | 'step' | 'state' | 'note'

export const caseRoutes =
  ({ registry, bus }: { registry: Registry; bus?: LiveBus }): FastifyPluginAsyncZod =>
  async (app) => {
    const cases = registry.cases
    /** Open housing pages fetch the case again: opened, a step, a state, a note. */
    const changed = (r: CaseRecord) => bus?.emit('case:changed', { caseId: r.case.id, site: r.site, deviceId: r.deviceId })
    const detail = async (r: CaseRecord, now: number): Promise<CaseDetail> => ({
      ...caseView(r, now),
      events: await cases.events(r.case.id),
    })
    // One answer for a case that does not exist and one the caller may not see: ids reveal nothing.
    const noCase = (reply: FastifyReply, id: string) => sendError(reply, 404, 'NOT_FOUND', `no case ${id}`)
    const answer = async (reply: FastifyReply, id: string, r: UpdateCaseResult, now: number) => {
      if (r.ok) {
        changed(r.record)
        return detail(r.record, now)
      }
      if (r.code === 'NOT_FOUND') return noCase(reply, id)
      return sendError(reply, 409, 'INVALID_TRANSITION', r.reason)
    }
    /**
     * Whether the caller may see (or act on) the case: its site, and its device's if it has one,
     * within their housing grants. A case with no site is only for those who hold every area.
     */
    const reaches = async (scope: Scope, r: CaseRecord, mode: Mode) => {
      if (!scope.data('housing', r.site, mode)) return false
      if (r.deviceId === null || scope.sites('housing', mode) === null) return true
      // A device keeps its site for life and a case takes it, so this only guards rows made another way.
      const d = await registry.devices.get(r.deviceId)
      return d === null || scope.data('housing', d.site, mode)
    }
    const caseFor = async (req: FastifyRequest, id: string, mode: Mode) => {
      const r = await cases.get(id)
      return r && (await reaches(principalOf(req).scope, r, mode)) ? r : null
    }
    const audited = (req: FastifyRequest, id: string, action: CaseAction, detail: Record<string, string> = {}) =>
      // The action only: notes may name residents or addresses, which never go to the audit log.
      audit(registry.audit, req, 'case-action', `case:${id}`, { action, ...detail })

    app.post(
      '/api/cases',
      {
        config: { access: { data: ['housing'], write: true } },
        schema: {
          tags: ['cases'],
          description:
            "Opens an Awaab's Law case from an alert (damp and mould, no heat, or any hazard), a device or a site. One open case per alert.",
          body: NewCaseBody,
          response: { 201: CaseDetail, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const b = req.body
        const { scope } = principalOf(req)
        const now = Date.now()
        const triagedAt = b.triagedAt ? Date.parse(b.triagedAt) : now
        if (triagedAt > now) return badTime(reply, 'triagedAt', 'triagedAt is in the future; give the time the hazard was triaged')
        if (triagedAt < AWAAB_IN_FORCE_MS)
          return badTime(reply, 'triagedAt', "Awaab's Law applies to hazards triaged from 27 October 2025; this one is earlier")

        let deviceId = b.deviceId ?? null
        let site = b.site ?? null
        const mismatch = (what: string, of: string) =>
          sendError(reply, 400, 'BAD_REQUEST', `${what} differs from the ${of}'s; leave it out and the case takes the ${of}'s`)
        if (b.alertId) {
          const alert = await registry.alerts.get(b.alertId)
          if (!alert || !scope.device(alert.deviceType, alert.site)) return sendError(reply, 404, 'NOT_FOUND', `no alert ${b.alertId}`)
          if (deviceId && deviceId !== alert.deviceId) return mismatch('deviceId', 'alert')
          if (site && site !== alert.site) return mismatch('site', 'alert')
          deviceId = alert.deviceId
          site = alert.site
        } else if (deviceId) {
          const device = await registry.devices.get(deviceId)
          if (!device || !scope.device(device.type, device.site)) return sendError(reply, 404, 'NOT_FOUND', `no device ${deviceId}`)
          if (site && site !== device.site) return mismatch('site', 'device')
          site = device.site
        } else if (!site) {
          return sendError(reply, 400, 'BAD_REQUEST', 'say where the hazard is: give alertId, deviceId or site')
        }
        if (!scope.data('housing', site, 'write'))
          return sendError(
            reply,
            403,
            'FORBIDDEN',
            `your housing areas do not include site ${site}; cases there are opened by its officers`,
          )

        const r = await cases.create({
          alertId: b.alertId ?? null,
          deviceId,
          site,
          category: b.category,
          hazard: b.hazard,
          triagedAt,
          preventativeRequired: b.preventativeRequired ?? true,
          createdBy: actorOf(req),
          now,
          note: b.note,
        })
        if (!r.ok)
          return sendError(
            reply,
            409,
            'CONFLICT',
            `alert ${b.alertId} already has an open case${r.openCaseId ? ` (${r.openCaseId})` : ''}; add to it, or close or cancel it first`,
          )
        await audited(req, r.record.case.id, 'open')
        changed(r.record)
        return reply.code(201).send(await detail(r.record, now))
      },
    )

    app.get(
      '/api/cases',
      {
        // Each case's deadlines are worked out at request time; a breached filter may do so for thousands.
        config: { access: { data: ['housing'] }, rateLimit: READINGS_LIMIT },
        schema: {
          tags: ['cases'],
          description: 'Cases, newest triage first, each with its deadlines, time left and breach judged now.',
          querystring: z.object({
            state: CaseState.optional(),
            breached: z.enum(['true', 'false']).optional().describe('only cases that have (true) or have not (false) breached a deadline'),
            site: z.string().optional(),
            deviceId: z.string().optional(),
            alertId: z.uuid().optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional().describe('default 100'),
          }),
          response: { 200: z.array(CaseView) },
        },
      },
      async (req) => {
        const { breached, limit = 100, ...filter } = req.query
        const now = Date.now()
        const sites = principalOf(req).scope.sites('housing') ?? undefined
        const records = await cases.list({ ...filter, sites, limit: breached === undefined ? limit : BREACH_SCAN })
        const views = records.map((r) => caseView(r, now))
        return breached === undefined ? views : views.filter((v) => v.breached === (breached === 'true')).slice(0, limit)
      },
    )

    app.get(
      '/api/cases/:id',
      {
        config: { access: { data: ['housing'] } },
        schema: {
          tags: ['cases'],
          description: 'One case with its deadlines and its evidence trail.',
          params: Params,
          response: { 200: CaseDetail, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const r = await caseFor(req, req.params.id, 'read')
        if (!r) return noCase(reply, req.params.id)
        return detail(r, Date.now())
      },
    )

    app.post(
      '/api/cases/:id/steps',
      {
        config: { access: { data: ['housing'], write: true } },
        schema: {
          tags: ['cases'],
          description:
            'Records a statutory step. Investigated, madeSafe and preventativeBegun also move the case on; a step the case cannot take yet is refused (409) with the reason.',
          params: Params,
          body: StepBody,
          response: { 200: CaseDetail, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const now = Date.now()
        const at = req.body.at ? Date.parse(req.body.at) : now
        if (at > now) return badTime(reply, 'at', 'a step cannot be recorded as done in the future')
        const { id } = req.params
        if (!(await caseFor(req, id, 'write'))) return noCase(reply, id)
        const { step, note } = req.body
        const event = { at, recordedAt: now, actor: actorOf(req), kind: 'step-recorded' as const, step, note }
        const r = await cases.update(id, (c) => applyStep(c, step, at), event)
        if (r.ok) await audited(req, id, 'step', { step })
        return answer(reply, id, r, now)
      },
    )

    app.post(
      '/api/cases/:id/state',
      {
        config: { access: { data: ['housing'], write: true } },
        schema: {
          tags: ['cases'],
          description:
            'Moves the case to another state the law allows from here (e.g. no-hazard, alternative-accommodation, closed, cancelled); see `transitions` on the case.',
          params: Params,
          body: StateBody,
          response: { 200: CaseDetail, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const now = Date.now()
        const at = req.body.at ? Date.parse(req.body.at) : now
        if (at > now) return badTime(reply, 'at', 'a state change cannot be recorded in the future')
        const { id } = req.params
        if (!(await caseFor(req, id, 'write'))) return noCase(reply, id)
        const { to, note } = req.body
        const event = { at, recordedAt: now, actor: actorOf(req), kind: 'state-changed' as const, note }
        const r = await cases.update(id, (c) => transition(c, to, at), event)
        if (r.ok) await audited(req, id, 'state', { to })
        return answer(reply, id, r, now)
      },
    )

    app.post(
      '/api/cases/:id/notes',
      {
        config: { access: { data: ['housing'], write: true } },
        schema: {
          tags: ['cases'],
          description: 'Adds a note, or evidence (a reference to a photo, report or letter kept elsewhere; no upload), to the trail.',
          params: Params,
          body: NoteBody,
          response: { 201: CaseDetail, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const now = Date.now()
        const { id } = req.params
        if (!(await caseFor(req, id, 'write'))) return noCase(reply, id)
        const { note, evidence } = req.body
        const kind = evidence ? ('evidence' as const) : ('note' as const)
        const e = await cases.addEvent(id, { at: now, recordedAt: now, actor: actorOf(req), kind, note, evidence })
        const r = e && (await cases.get(id))
        if (!r) return noCase(reply, id)
        await audited(req, id, 'note', { kind })
        changed(r)
        return reply.code(201).send(await detail(r, now))
      },
    )
  }
