import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Registry } from 'prom-client'
import { z } from 'zod'

export interface ReadyCheck {
  ok: boolean
  checks: Record<string, { ok: boolean; detail?: string }>
}

const Ready = z.object({
  status: z.enum(['ready', 'degraded']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
})

export const healthRoutes =
  (deps: { ready(): Promise<ReadyCheck> }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/health',
      { config: { access: 'public' }, schema: { tags: ['ops'], response: { 200: z.object({ status: z.literal('ok') }) } } },
      async () => ({
        status: 'ok' as const,
      }),
    )
    app.get(
      '/ready',
      { config: { access: 'public' }, schema: { tags: ['ops'], response: { 200: Ready, 503: Ready } } },
      async (_req, reply) => {
        const r = await deps.ready()
        return reply.code(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'degraded', checks: r.checks })
      },
    )
  }

/** Prometheus text format; behind the token like the rest of the API (use bearer_token in the scrape config). */
export const metricsRoute =
  (deps: { metrics: Registry }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/metrics', { config: { access: 'admin' }, schema: { tags: ['ops'], hide: true } }, async (_req, reply) => {
      reply.type(deps.metrics.contentType)
      return deps.metrics.metrics()
    })
  }
