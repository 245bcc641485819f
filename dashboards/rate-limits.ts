import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import { Counter, type Registry } from 'prom-client'

/**
 * Per client address (IPv6 by /64), per minute, on routes that make real work: a readings
 * query can scan a year of InfluxDB data, a replay re-validates and re-ingests up to 1,000
 * messages. Route hooks run after the /api scope's token check, so only accepted callers
 * count and strangers cannot use up the admin's allowance. A dashboard drawing a chart per
 * device on one screen stays well under READINGS_LIMIT.
 */
export const READINGS_LIMIT = { max: 120, timeWindow: 60_000 }
export const REPLAY_LIMIT = { max: 10, timeWindow: 60_000 }
/** Open data per address per minute: enough for a harvester or a map refreshing each minute; a CDN serves the rest. */
export const OPEN_DATA_LIMIT = { max: 60, timeWindow: 60_000 }
/** Sign-in attempts per address per minute: more than an office of people arriving at once, less than a CPU's worth of argon2. */
export const SIGN_IN_LIMIT = { max: 60, timeWindow: 60_000 }
/** TTS uplinks per address per minute: a TTS cluster posts every uplink of an application from a few addresses. */
export const TTS_UPLINK_LIMIT = { max: 6000, timeWindow: 60_000 }

/** Registers @fastify/rate-limit for the routes that opt in with `config: { rateLimit }`; others are not limited. */
export async function registerRateLimits(app: FastifyInstance, metrics: Registry) {
  const limited = new Counter({
    name: 'sp_http_rate_limited_total',
    help: 'API requests refused with 429 by a per-route rate limit',
    labelNames: ['route'] as const,
    registers: [metrics],
  })
  await app.register(rateLimit, {
    global: false,
    onExceeded: (req) => limited.inc({ route: req.routeOptions.url ?? 'unknown' }),
    // Thrown to the app's error handler, which answers with the RATE_LIMITED code and hint; Retry-After is already set.
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(
        new Error(`too many requests of this kind from this address; try again in ${Math.max(1, Math.ceil(ctx.ttl / 1000))} s`),
        {
          statusCode: 429,
        },
      ),
  })
}
