import type { FastifyRequest } from 'fastify'
import type { AuditAction } from '#devices'
import type { AuditStore } from '../../store/audit-store.ts'

/**
 * Appends one audit entry for a request: who (the principal, or `anonymous` before sign-in),
 * what, on what, and from where. The address is kept here and nowhere else: never in a log line.
 */
export function audit(
  store: AuditStore,
  req: Pick<FastifyRequest, 'ip' | 'principal'>,
  action: AuditAction,
  target: string | null,
  detail?: Record<string, unknown>,
  actor?: string,
): Promise<void> {
  return store.append({ actor: actor ?? req.principal?.actor ?? 'anonymous', action, target, address: req.ip, detail: detail ?? null })
}
