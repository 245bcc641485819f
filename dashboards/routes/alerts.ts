import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { Alert, AlertChanged, AlertHistoryEntry, AlertStatus, ASSIGNEE_MAX, type LiveBus, MAX_SNOOZE_MS, NOTE_MAX } from '#devices'
import type { AlertStore, Command, CommandResult } from '../../store/alert-store.ts'
import { actorOf } from '../auth.ts'
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

export const alertRoutes =
  (deps: { alerts: AlertStore; bus: LiveBus }): FastifyPluginAsyncZod =>
  async (app) => {
    /** Runs a person's command and tells live clients; 'alert:acknowledged' still goes to clients from before 'alert:changed'. */
    const perform = async (req: FastifyRequest<{ Params: { id: string } }>, command: Command): Promise<CommandResult> => {
      const r = await deps.alerts.command(req.params.id, command, actorOf(req), new Date())
      if (r.ok) {
        if (r.action === 'acknowledged') deps.bus.emit('alert:acknowledged', r.alert)
        deps.bus.emit('alert:changed', { action: r.action, alert: r.alert, entry: r.entry })
      }
      return r
    }
    const refuse = (reply: FastifyReply, r: Extract<CommandResult, { ok: false }>) =>
      sendError(reply, r.code === 'NOT_FOUND' ? 404 : 409, r.code, r.message)
    const answer = (reply: FastifyReply, r: CommandResult) =>
      r.ok ? { action: r.action, alert: r.alert, entry: r.entry } : refuse(reply, r)
    const action = (description: string) => ({
      tags: ['alerts'],
      description,
      params: Params,
      response: { 200: AlertChanged, 404: ErrorBody, 409: ErrorBody },
    })

    app.get(
      '/api/alerts',
      {
        schema: {
          tags: ['alerts'],
          description: 'Newest first. Cleared and resolved alerts stay listed: ask for status=cleared or status=resolved.',
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
          }),
          response: { 200: z.array(Alert) },
        },
      },
      async (req) => deps.alerts.list(req.query),
    )

    app.get(
      '/api/alerts/:id',
      { schema: { tags: ['alerts'], params: Params, response: { 200: Alert, 404: ErrorBody } } },
      async (req, reply) => (await deps.alerts.get(req.params.id)) ?? sendError(reply, 404, 'NOT_FOUND', `no alert ${req.params.id}`),
    )

    app.get(
      '/api/alerts/:id/history',
      {
        schema: {
          tags: ['alerts'],
          description: 'Every transition and human action on the alert, oldest first, with time, actor, from, to and note',
          params: Params,
          response: { 200: z.array(AlertHistoryEntry), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await deps.alerts.get(req.params.id))) return sendError(reply, 404, 'NOT_FOUND', `no alert ${req.params.id}`)
        return deps.alerts.history({ alertId: req.params.id })
      },
    )

    app.post(
      '/api/alerts/:id/ack',
      {
        schema: {
          tags: ['alerts'],
          description: 'Acknowledges an active alert without a comment; kept for earlier clients (see /acknowledge)',
          params: Params,
          response: { 200: Alert, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const r = await perform(req, { command: 'acknowledge' })
        return r.ok ? r.alert : refuse(reply, r)
      },
    )

    app.post(
      '/api/alerts/:id/acknowledge',
      {
        schema: {
          ...action('Acknowledges an active alert: someone is on it. The comment goes to the history.'),
          body: z.object({ comment: note.optional() }).nullish(),
        },
      },
      async (req, reply) => answer(reply, await perform(req, { command: 'acknowledge', comment: req.body?.comment })),
    )

    app.post(
      '/api/alerts/:id/assign',
      {
        schema: {
          ...action('Assigns an open alert to a person or team'),
          body: z.object({ to: z.string().trim().min(1).max(ASSIGNEE_MAX), note: note.optional() }),
        },
      },
      async (req, reply) => answer(reply, await perform(req, { command: 'assign', to: req.body.to, note: req.body.note })),
    )

    app.post(
      '/api/alerts/:id/snooze',
      { schema: { ...action('Snoozes an open alert until a time at most 30 days ahead'), body: SnoozeBody } },
      async (req, reply) => answer(reply, await perform(req, { command: 'snooze', until: new Date(req.body.until), note: req.body.note })),
    )

    app.post(
      '/api/alerts/:id/unsnooze',
      { schema: { ...action('Ends the snooze of an open alert'), body: NoteBody } },
      async (req, reply) => answer(reply, await perform(req, { command: 'unsnooze', note: req.body?.note })),
    )

    app.post(
      '/api/alerts/:id/resolve',
      {
        schema: {
          ...action('Closes an open alert: a person dealt with it and says how. If its condition returns within 7 days it reopens.'),
          body: z.object({ note }),
        },
      },
      async (req, reply) => answer(reply, await perform(req, { command: 'resolve', note: req.body.note })),
    )

    app.post(
      '/api/alerts/:id/reopen',
      { schema: { ...action('Makes a resolved or cleared alert active again'), body: NoteBody } },
      async (req, reply) => answer(reply, await perform(req, { command: 'reopen', note: req.body?.note })),
    )
  }
