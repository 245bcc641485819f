import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AuditAction, AuditEntry } from '#devices'
import type { Registry } from '../../store/registry.ts'

export const AUDIT_PAGE_MAX = 500

const Query = z.object({
  action: AuditAction.optional(),
  actor: z.string().max(80).optional().describe('person:<id>, token:<id>, admin-token or anonymous'),
  before: z.coerce.number().int().positive().optional().describe('only entries with a smaller id: the last id of the previous page'),
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(100),
})

/** The audit log, for administrators. Read-only here as in the store: there is no route that changes an entry. */
export const auditRoutes =
  (deps: { registry: Registry }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/audit',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['audit'],
          description:
            'Audit entries, newest first: who (actor), what (action, target, detail), when (at) and from where (address). At most 500 a page; for the next page pass before=<id of the last entry>. An empty page is the end.',
          querystring: Query,
          response: { 200: z.array(AuditEntry) },
        },
      },
      async (req) => deps.registry.audit.list(req.query),
    )
  }
