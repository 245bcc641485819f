import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { normalizeIP } from '@fastify/rate-limit'

/** True for the address of a reverse proxy whose X-Forwarded-For we believe. */
export type TrustProxy = (address: string) => boolean

/** 10.0.0.1 and ::ffff:10.0.0.1 are one client: a dual-stack socket reports the second. */
export function plainAddress(address: string): string {
  const a = address.trim().toLowerCase()
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a
}

export function trustList(addresses: readonly string[]): TrustProxy {
  const trusted = new Set(addresses.map(plainAddress))
  return (address) => trusted.has(plainAddress(address))
}

/**
 * The client behind our own proxies: walk X-Forwarded-For from the right (the hop our
 * proxy appended) and stop at the first address that is not a proxy of ours. Anything
 * further left was written by the client and proves nothing. Same rule as Fastify's
 * `trustProxy` (proxy-addr), so Socket.IO and the REST API see one address.
 */
export function forwardedClient(remote: string, forwardedFor: string | string[] | undefined, trusted: TrustProxy): string {
  if (!trusted(remote)) return remote
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '')
  let client = remote
  for (let i = hops.length - 1; i >= 0; i--) {
    client = hops[i]!
    if (!trusted(client)) break
  }
  return client
}

export function clientOfRequest(req: IncomingMessage, trusted: TrustProxy): string {
  return forwardedClient(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'], trusted)
}

/**
 * What failures and limits are counted against: one IPv4 address, or one IPv6 /64,
 * because a single subscriber is usually handed a whole /64 and could rotate through it.
 * The same key @fastify/rate-limit uses, so both brakes agree on who "one client" is.
 */
export const addressKey = (address: string): string => normalizeIP(plainAddress(address), 64)
