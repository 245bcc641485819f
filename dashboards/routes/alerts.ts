import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  Alert,
  AlertChanged,
  AlertHistoryEntry,
  AlertStatus,
  ASSIGNEE_MAX,
  Assignee,
  alertView,
  dataClassOf,
  Grant,
  historyView,
  type LiveBus,
  MAX_SNOOZE_MS,
  NOTE_MAX,
  ROLE_RIGHTS,
  type Role,
  type Scope,
} from '#devices'
import type { AlertStore, Command, CommandResult } from '../../store/alert-store.ts'
import type { AuditStore } from '../../store/audit-store.ts'
import type { PeopleStore } from '../../store/people-store.ts'
import { audit } from '../access/audit.ts'
import { actorOf, principalOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'

const Params = z.object({ id: z.uuid() })
const note = z.string().trim().min(1).max(NOTE_MAX)
// Fastify hands a POST without a body over as null.
const NoteBody = z.object({ note: note.optional() }).nullish()

const SnoozeBody = z
  .object({
    until: z.iso.datetime({ offset: true }).describe('ISO 8601, in the future and at most 30 days ahead'),
    note: note.optional(),
  })
  .superRefine((b, ctx) => {
    const ms = Date.parse(b.until) - Date.now()
    if (ms <= 0) ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be in the future' })
    else if (ms > MAX_SNOOZE_MS) ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be at most 30 days ahead' })
  })

export interface AlertRoutesDeps {
  alerts: AlertStore
  bus: LiveBus
  audit: AuditStore
  /** To check that a person an alert is assigned to exists and may see it. */
  people: PeopleStore
  /** Someone else's grants as a scope, with today's areas (the authenticator's scopeOf). */
  scopeOf(grants: readonly Grant[]): Promise<Scope>
}

type Outcome = CommandResult | { ok: false; code: 'FORBIDDEN' | 'BAD_REQUEST'; message: string }
const STATUS = { NOT_FOUND: 404, FORBIDDEN: 403, BAD_REQUEST: 400, INVALID_TRANSITION: 409 } as const

// One answer for a missing alert and one outside the caller's scope: ids do not reveal what exists.
const noAlert = (id: string) => ({ ok: false, code: 'NOT_FOUND', message: `no alert ${id}` }) as const

export const alertRoutes =
  (deps: AlertRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    /** The alert a request names, if the caller may read it. */
    const visible = async (req: FastifyRequest<{ Params: { id: string } }>): Promise<Alert | null> => {
      const a = await deps.alerts.get(req.params.id)
      return a && principalOf(req).scope.device(a.deviceType, a.site) ? a : null
    }

    /** Why an alert cannot go to this assignee (null: it can): they must exist and be able to see it. */
    const unassignable = async (to: Assignee, a: Alert): Promise<string | null> => {
      const sees = (scope: Scope) => scope.device(a.deviceType, a.site)
      if (to.startsWith('person:')) {
        const p = await deps.people.get(to.slice('person:'.length))
        // One message whether the person is missing, disabled or elsewhere: an assigner does not learn which.
        if (p?.status === 'active' && sees(await deps.scopeOf(p.grants))) return null
        return `cannot assign to ${to}: no active person with that id who can see ${a.deviceType} alerts at ${a.site}`
      }
      const [role, area] = to.slice('team:'.length).split('@') as [Role, string]
      const grant = Grant.safeParse({ role, areas: area === 'all' ? null : [area] })
      if (!grant.success) return `cannot assign to ${to}: an admin team is everywhere (team:admin@all)`
      const c = dataClassOf(a.deviceType)
      if (c === undefined || !ROLE_RIGHTS[role].read.includes(c))
        return `cannot assign to ${to}: the ${role} role does not see ${c ?? a.deviceType} data`
      if (!sees(await deps.scopeOf([grant.data]))) return `cannot assign to ${to}: site ${a.site} is not in area ${area}`
      return null
    }

    /**
     * Runs a person's command on an alert they may act on, tells live clients and audits it;
     * 'alert:acknowledged' still goes to clients from before 'alert:changed'.
     */
    const perform = async (req: FastifyRequest<{ Params: { id: string } }>, command: Command): Promise<Outcome> => {
      const a = await visible(req)
      if (!a) return noAlert(req.params.id)
      if (!principalOf(req).scope.device(a.deviceType, a.site, 'write'))
        return { ok: false, code: 'FORBIDDEN', message: `your role cannot act on ${a.deviceType} alerts at ${a.site}` }
      if (command.command === 'assign') {
        const why = await unassignable(command.to, a)
        if (why) return { ok: false, code: 'BAD_REQUEST', message: why }
      }
      const r = await deps.alerts.command(a.id, command, actorOf(req), new Date())
      if (r.ok) {
        if (r.action === 'acknowledged') deps.bus.emit('alert:acknowledged', r.alert)
        deps.bus.emit('alert:changed', { action: r.action, alert: r.alert, entry: r.entry })
        await audit(deps.audit, req, 'alert-action', `alert:${a.id}`, { action: r.action })
      }
      return r
    }
    const refuse = (reply: FastifyReply, r: Extract<Outcome, { ok: false }>) => sendError(reply, STATUS[r.code], r.code, r.message)
    const answer = (req: FastifyRequest, reply: FastifyReply, r: Outcome) => {
      if (!r.ok) return refuse(reply, r)
      const { scope } = principalOf(req)
      return { action: r.action, alert: alertView(r.alert, scope), entry: historyView(r.entry, scope) }
    }
    const action = (description: string) => ({
      tags: ['alerts'],
      description,
      params: Params,
      response: { 200: AlertChanged, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
    })

    app.get(
      '/api/alerts',
      {
        config: { access: { data: 'any' } },
        schema: {
          tags: ['alerts'],
          description:
            'Newest first (by reading time, then id). Cleared and resolved alerts stay listed: ask for status=cleared or status=resolved. ' +
            'For the next page, pass `before=<raisedAt in epoch ms>_<id>` of the last alert of this one.',
          querystring: z.object({
            status: z
              .union([AlertStatus, z.literal('open')])
              .optional()
              .describe('open = active or acknowledged'),
            deviceId: z.string().optional(),
            site: z.string().optional(),
            ruleId: z.string().optional(),
            assignedTo: z.string().min(1).max(ASSIGNEE_MAX).optional(),
            snoozed: z
              .enum(['true', 'false'])
              .transform((v) => v === 'true')
              .optional()
              .describe('true: snoozed until a time in the future; false: not snoozed'),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
            before: z
              .string()
              .regex(/^\d{1,15}_[0-9a-f-]{36}$/, 'the last alert of the page before, as <raisedAt in epoch ms>_<id>')
              .optional(),
          }),
          response: { 200: z.array(Alert), 403: ErrorBody },
        },
      },
      async (req, reply) => {
        const { scope } = principalOf(req)
        // Filtering by assignee would tell a role that does not see people who holds what.
        if (req.query.assignedTo && !scope.seesPeople)
          return sendError(reply, 403, 'FORBIDDEN', 'your role does not see who alerts are assigned to')
        const { before, ...filter } = req.query
        const cursor = before
          ? { raisedTs: Number(before.slice(0, before.indexOf('_'))), id: before.slice(before.indexOf('_') + 1) }
          : undefined
        return (await deps.alerts.list({ ...filter, before: cursor, visible: scope.visible() })).map((a) => alertView(a, scope))
      },
    )

    app.get(
      '/api/alerts/:id',
      { config: { access: { data: 'any' } }, schema: { tags: ['alerts'], params: Params, response: { 200: Alert, 404: ErrorBody } } },
      async (req, reply) => {
        const a = await visible(req)
        return a ? alertView(a, principalOf(req).scope) : refuse(reply, noAlert(req.params.id))
      },
    )

    app.get(
      '/api/alerts/:id/history',
      {
        config: { access: { data: 'any' } },
        schema: {
          tags: ['alerts'],
          description: 'Every transition and human action on the alert, oldest first, with time, actor, from, to and note',
          params: Params,
          response: { 200: z.array(AlertHistoryEntry), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await visible(req))) return refuse(reply, noAlert(req.params.id))
        const { scope } = principalOf(req)
        return (await deps.alerts.history({ alertId: req.params.id })).map((e) => historyView(e, scope))
      },
    )

    app.post(
      '/api/alerts/:id/ack',
      {
        config: { access: { data: 'any', write: true } },
        schema: {
          tags: ['alerts'],
          description: 'Acknowledges an active alert without a comment; kept for earlier clients (see /acknowledge)',
          params: Params,
          response: { 200: Alert, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const r = await perform(req, { command: 'acknowledge' })
        return r.ok ? alertView(r.alert, principalOf(req).scope) : refuse(reply, r)
      },
    )

    app.post(
      '/api/alerts/:id/acknowledge',
      {
        config: { access: { data: 'any', write: true } },
        schema: {
          ...action('Acknowledges an active alert: someone is on it. The comment goes to the history.'),
          body: z.object({ comment: note.optional() }).nullish(),
        },
      },
      async (req, reply) => answer(req, reply, await perform(req, { command: 'acknowledge', comment: req.body?.comment })),
    )

    app.post(
      '/api/alerts/:id/assign',
      {
        config: { access: { data: 'any', write: true } },
        schema: {
          ...action(
            'Assigns an open alert to a person (person:<id>, active and able to see the alert) or a team (team:<role>@<area|all>, whose role reads its data)',
          ),
          body: z.object({ to: Assignee, note: note.optional() }),
        },
      },
      async (req, reply) => answer(req, reply, await perform(req, { command: 'assign', to: req.body.to, note: req.body.note })),
    )

    app.post(
      '/api/alerts/:id/snooze',
      {
        config: { access: { data: 'any', write: true } },
        schema: { ...action('Snoozes an open alert until a time at most 30 days ahead'), body: SnoozeBody },
      },
      async (req, reply) =>
        answer(req, reply, await perform(req, { command: 'snooze', until: new Date(req.body.until), note: req.body.note })),
    )

    app.post(
      '/api/alerts/:id/unsnooze',
      { config: { access: { data: 'any', write: true } }, schema: { ...action('Ends the snooze of an open alert'), body: NoteBody } },
      async (req, reply) => answer(req, reply, await perform(req, { command: 'unsnooze', note: req.body?.note })),
    )

    app.post(
      '/api/alerts/:id/resolve',
      {
        config: { access: { data: 'any', write: true } },
        schema: {
          ...action('Closes an open alert: a person dealt with it and says how. If its condition returns within 7 days it reopens.'),
          body: z.object({ note }),
        },
      },
      async (req, reply) => answer(req, reply, await perform(req, { command: 'resolve', note: req.body.note })),
    )

    app.post(
      '/api/alerts/:id/reopen',
      {
        config: { access: { data: 'any', write: true } },
        schema: { ...action('Makes a resolved or cleared alert active again'), body: NoteBody },
      },
      async (req, reply) => answer(req, reply, await perform(req, { command: 'reopen', note: req.body?.note })),
    )
  }
