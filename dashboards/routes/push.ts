import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { NotificationPrefs, PushSubscriptionInput, PushSubscriptionView } from '#devices'
import type { TargetPolicy } from '../../outbox/ssrf.ts'
import type { PushStore } from '../../store/push-store.ts'
import { principalOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'

export interface PushRoutesDeps {
  push: PushStore
  /** Null when Web Push is off (no VAPID_SUBJECT). */
  vapidKeys: (() => Promise<{ publicKey: string }>) | null
  policy: TargetPolicy
}

const Unsubscribe = z.strictObject({ endpoint: z.string().max(2000) })

/** A person's phones and notification choices (issue 14): their own only, whatever their role. */
export const pushRoutes =
  (deps: PushRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['notifications']
    const person = (req: { principal?: unknown }) => {
      const p = principalOf(req as never)
      return p.kind === 'person' ? p.id : null
    }

    app.get(
      '/api/push/key',
      {
        config: { access: 'signed-in' },
        schema: {
          tags,
          summary: "The service's VAPID public key, the applicationServerKey for PushManager.subscribe",
          response: { 200: z.object({ publicKey: z.string() }), 404: ErrorBody },
        },
      },
      async (_req, reply) => {
        if (!deps.vapidKeys) return sendError(reply, 404, 'PUSH_OFF', 'Web Push is off on this service')
        return { publicKey: (await deps.vapidKeys()).publicKey }
      },
    )

    app.get(
      '/api/push/subscriptions',
      {
        config: { access: 'signed-in' },
        schema: { tags, summary: 'Your subscribed phones', response: { 200: z.array(PushSubscriptionView) } },
      },
      async (req) => {
        const id = person(req)
        return id ? deps.push.listFor(id) : []
      },
    )

    app.post(
      '/api/push/subscriptions',
      {
        config: { access: 'signed-in' },
        schema: {
          tags,
          summary: "Subscribes this phone: the body is the browser's PushSubscription.toJSON()",
          body: PushSubscriptionInput,
          response: { 201: PushSubscriptionView, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!deps.vapidKeys) return sendError(reply, 404, 'PUSH_OFF', 'Web Push is off on this service')
        const id = person(req)
        if (!id) return sendError(reply, 403, 'PUSH_PEOPLE_ONLY', 'only a signed-in person can subscribe a phone')
        // Checked now and again at each send: a push endpoint is a URL the service will POST to.
        const check = await deps.policy.check(new URL(req.body.endpoint).hostname)
        if (!check.ok) return sendError(reply, 400, 'PUSH_ENDPOINT_REFUSED', check.message)
        return reply.code(201).send(await deps.push.subscribe(id, req.body))
      },
    )

    app.post(
      '/api/push/unsubscribe',
      {
        config: { access: 'signed-in' },
        schema: { tags, summary: 'Stops pushing to this phone', body: Unsubscribe, response: { 200: z.object({ removed: z.boolean() }) } },
      },
      async (req) => {
        const id = person(req)
        return { removed: id ? await deps.push.unsubscribe(id, req.body.endpoint) : false }
      },
    )

    app.get(
      '/api/me/notifications',
      {
        config: { access: 'signed-in' },
        schema: { tags, summary: 'What you want sent to you, and when not', response: { 200: NotificationPrefs, 403: ErrorBody } },
      },
      async (req, reply) => {
        const id = person(req)
        if (!id) return sendError(reply, 403, 'PUSH_PEOPLE_ONLY', 'notification choices are a person’s')
        return deps.push.prefs(id)
      },
    )

    app.put(
      '/api/me/notifications',
      {
        config: { access: 'signed-in' },
        schema: { tags, body: NotificationPrefs, response: { 200: NotificationPrefs, 400: ErrorBody, 403: ErrorBody } },
      },
      async (req, reply) => {
        const id = person(req)
        if (!id) return sendError(reply, 403, 'PUSH_PEOPLE_ONLY', 'notification choices are a person’s')
        await deps.push.setPrefs(id, req.body)
        return req.body
      },
    )
  }
