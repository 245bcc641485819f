import type { Logger } from 'pino'
import { Counter, type Registry } from 'prom-client'
import { type BrakeRule, createBrake } from './auth-brake.ts'
import { addressKey } from './client-address.ts'
import { recentlySeen } from './recently-seen.ts'

export type AuthTransport = 'http' | 'socket.io'

export interface Refusal {
  scope: 'address' | 'identity'
  retryAfterS: number
}

/**
 * Decides, before a credential is checked, whether it may be checked at all. Both the
 * REST API and the Socket.IO handshake go through one guard, so neither is a side door.
 */
export interface AuthGuard {
  check(address: string, identity: string, transport: AuthTransport): Refusal | null
  succeeded(address: string): void
  failed(address: string, identity: string, transport: AuthTransport): void
}

/**
 * 20 free mistakes per client (a person mistyping, a script with a stale token), then
 * blocks of 1 s, 2 s, 4 s … up to 15 minutes: about 35 guesses in the first hour from one
 * address, 4 an hour after that.
 */
export const ADDRESS_RULE: BrakeRule = {
  freeFailures: 20,
  firstBlockMs: 1_000,
  maxBlockMs: 15 * 60_000,
  forgetMs: 60 * 60_000,
  maxKeys: 10_000,
}
/**
 * Many addresses guessing one identity (a botnet, a rotated IPv6 range). Blocks stay short
 * because they also hold back the real owner arriving from a new address; addresses that
 * signed in within the last day are exempt, so people already at work are not locked out.
 */
export const IDENTITY_RULE: BrakeRule = {
  freeFailures: 200,
  firstBlockMs: 1_000,
  maxBlockMs: 60_000,
  forgetMs: 60 * 60_000,
  maxKeys: 1_000,
}
const KNOWN_FOR_MS = 24 * 3_600_000
const KNOWN_MAX = 1_000
// A flood starts a block on many addresses; one line per interval says so without flooding the log.
const LOG_EVERY_MS = 10_000

export function createAuthGuard(deps: { metrics: Registry; log: Logger; now?: () => number }): AuthGuard {
  const now = deps.now ?? Date.now
  const byAddress = createBrake(ADDRESS_RULE, now)
  const byIdentity = createBrake(IDENTITY_RULE, now)
  const known = recentlySeen(KNOWN_FOR_MS, KNOWN_MAX, now)
  const failures = new Counter({
    name: 'sp_http_auth_failures_total',
    help: 'Wrong API or Socket.IO credentials that were checked',
    labelNames: ['transport'] as const,
    registers: [deps.metrics],
  })
  const throttled = new Counter({
    name: 'sp_http_auth_throttled_total',
    help: 'API and Socket.IO authentication attempts refused unchecked while their address or identity was blocked',
    labelNames: ['transport', 'scope'] as const,
    registers: [deps.metrics],
  })

  let lastLogAt = Number.NEGATIVE_INFINITY
  let unlogged = 0
  const logBlock = (fields: Record<string, unknown>) => {
    const t = now()
    if (t - lastLogAt < LOG_EVERY_MS) {
      unlogged++
      return
    }
    deps.log.warn({ ...fields, blocksNotLogged: unlogged }, 'failed authentication: blocked for a while (AUTH_THROTTLED)')
    lastLogAt = t
    unlogged = 0
  }

  return {
    check(address, identity, transport) {
      const key = addressKey(address)
      const byAddr = byAddress.blockedFor(key)
      const byId = byAddr > 0 || known.has(key) ? 0 : byIdentity.blockedFor(identity)
      const ms = byAddr || byId
      if (ms === 0) return null
      const scope = byAddr > 0 ? 'address' : 'identity'
      throttled.inc({ transport, scope })
      return { scope, retryAfterS: Math.max(1, Math.ceil(ms / 1000)) }
    },
    succeeded(address) {
      known.add(addressKey(address))
    },
    failed(address, identity, transport) {
      failures.inc({ transport })
      const key = addressKey(address)
      const a = byAddress.failed(key)
      if (a.blockMs > 0) logBlock({ scope: 'address', failures: a.failures, blockMs: a.blockMs, transport })
      const i = byIdentity.failed(identity)
      if (i.blockMs > 0) logBlock({ scope: 'identity', failures: i.failures, blockMs: i.blockMs, transport })
    },
  }
}
