import type { DataClass } from '#devices'
import type { Principal } from './principal.ts'

/**
 * Every route declares who may call it (config.access). Route-level checks happen in one
 * hook; checks on the objects a request names happen in the handler, through the
 * caller's scope, and answer 404 for what is outside it, so ids do not reveal existence.
 */
export type Access =
  /** Anyone, signed in or not (health, sign-in). */
  | 'public'
  /** Anyone signed in, whatever their role (their own account, reference lists). */
  | 'signed-in'
  /** Signed in, even while a first password must still be changed. */
  | 'signed-in-any-state'
  /** Administrators only (people, tokens, provisioning, quarantine, audit, metrics). */
  | 'admin'
  /** Callers whose role reads (or, with write, acts on) one of these classes of data somewhere. */
  | { data: readonly DataClass[] | 'any'; write?: boolean }

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access
  }
  interface FastifyRequest {
    /** Set by the access hook on every route that is not public. */
    principal?: Principal
  }
}

/** The principal of a non-public route; the hook has already refused requests without one. */
export function principalOf(req: { principal?: Principal }): Principal {
  if (!req.principal) throw new Error('no principal: the route is public or the access hook did not run')
  return req.principal
}

export const actorOf = (req: { principal?: Principal }): string => principalOf(req).actor
