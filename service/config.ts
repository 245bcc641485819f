import { isIP } from 'node:net'
import { z } from 'zod'
import { Grants, parseServiceCodes } from '#devices'

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])
const port = z.coerce.number().int().min(0).max(65535)
const optional = <T extends z.ZodType>(s: T) => z.preprocess((v) => (v === '' ? undefined : v), s.optional())
/** A port, or `off` for no listener. */
const portOrOff = (fallback: number) =>
  z.preprocess((v) => (v === 'off' ? null : v === '' ? undefined : v), port.nullable().default(fallback))

/** Node's spelling of an address (as socket.remoteAddress reports it), so a configured list matches it exactly. */
export function canonicalAddress(address: string): string {
  const a = address.trim().toLowerCase()
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a)
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!
  if (isIP(a) !== 6 || a.includes('%')) return a
  return new URL(`http://[${a}]/`).hostname.slice(1, -1)
}
const splitList = (v: unknown) => (typeof v === 'string' ? v.split(',').flatMap((a) => (a.trim() ? [a.trim()] : [])) : v)
const anAddress = (what: string) =>
  z
    .string()
    .refine((a) => isIP(a) !== 0, {
      error: (i) => `${String(i.input)} is not an IP address (${what}: plain addresses, comma-separated; no names or ranges)`,
    })
    .transform(canonicalAddress)
// Comma-separated plain IP addresses, each checked, so that a typo cannot silently trust nobody (or the wrong host).
const addressList = (what: string) => z.preprocess(splitList, z.array(anAddress(what)).default([]))

/** Every variable the all-in-one service reads; parsed once, all errors reported together. */
export const ServiceConfig = z
  .object({
    DATA_DIR: z.string().min(1).default('./data'),
    HTTP_HOST: z.string().default('127.0.0.1'),
    HTTP_PORT: port.default(3000),
    // Reverse proxies in front of the API: their X-Forwarded-For names the client that the auth brake and rate limits count.
    HTTP_TRUSTED_PROXIES: addressList('the reverse proxies in front of the HTTP port'),
    // Leaflet tile URL template; its origin is allowed as an image source in the dashboard's Content-Security-Policy.
    MAP_TILE_URL: optional(
      z
        .string()
        .regex(
          /^https?:\/\/(\{s\}\.)?[a-z0-9.-]+(:\d+)?\/\S*$/i,
          'MAP_TILE_URL must be an http(s) tile URL template such as https://tile.openstreetmap.org/{z}/{x}/{y}.png ({s}. may start the host)',
        ),
    ),
    MQTT_HOST: z.string().default('0.0.0.0'),
    MQTT_PORT: portOrOff(1883),
    MQTT_WS_PORT: z.preprocess((v) => (v === '' || v === 'off' ? null : v), port.nullable().default(8083)),
    // PEM file paths; with both set, MQTT is also served over TLS and secure WebSocket (SIGHUP reloads them).
    MQTT_TLS_CERT: optional(z.string()),
    MQTT_TLS_KEY: optional(z.string()),
    MQTT_TLS_PORT: portOrOff(8883),
    MQTT_WSS_PORT: portOrOff(8084),
    MQTT_MAX_PACKET_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
    MQTT_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(20_000),
    MQTT_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).default(1000),
    // Gateways and LoRaWAN bridges that carry many devices from one address: exempt from the per-address cap.
    MQTT_TRUSTED_ADDRESSES: addressList('gateways exempt from MQTT_MAX_CONNECTIONS_PER_ADDRESS'),
    MQTT_DEVICE_RATE: z.coerce.number().min(0).default(20),
    MQTT_DEVICE_BURST: z.coerce.number().int().min(1).default(100),
    MQTT_AUTH: z.enum(['on', 'off']).default('on'),
    // The longest keep-alive a device may ask for (larger: CONNACK 0x02, as Mosquitto's max_keepalive); 0 = no limit.
    MQTT_KEEPALIVE_LIMIT_S: z.coerce.number().int().min(0).default(3600),
    // Keep-alive 0 means "none"; devices are still seen offline by their reporting interval, dead sockets by TCP keep-alive.
    MQTT_KEEPALIVE_ZERO: z.enum(['allow', 'refuse']).default('allow'),
    // Wrong device secrets answered at full speed per address and per device id; after that each waits longer, doubling.
    MQTT_AUTH_BRAKE_AFTER: z.coerce.number().int().min(0).default(5),
    // The longest such wait; an address whose turn is further off is refused unchecked. 0 turns the brake off.
    MQTT_AUTH_BRAKE_MAX_MS: z.coerce.number().int().min(0).max(60_000).default(10_000),
    MQTT_AUTH_BRAKE_FORGET_S: z.coerce.number().int().min(1).default(900),
    MQTT_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    // postgres://user:password@host:5432/db selects PostgreSQL for the registry; unset, SQLite under DATA_DIR.
    DATABASE_URL: optional(
      z.string().regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// or postgresql:// (leave it unset for SQLite)'),
    ),
    // A file holding PostgreSQL's password, for a DATABASE_URL without one (a Compose or Kubernetes secret).
    DATABASE_PASSWORD_FILE: optional(z.string()),
    // Cluster mode (issue 15), off unless both are set, with DATABASE_URL on PostgreSQL: several nodes behind one address.
    // nats://host:4222,nats://host2:4222 (a JetStream cluster of three): the replicated log and the partition leases.
    CLUSTER_NATS_URL: optional(
      z
        .string()
        .regex(/^nats:\/\/[^,\s]+(,nats:\/\/[^,\s]+)*$/, 'CLUSTER_NATS_URL must be nats://host:port, comma-separated for each server'),
    ),
    // redis://host:6379: the broker's sessions and fan-out between nodes, and Socket.IO's rooms across nodes.
    CLUSTER_REDIS_URL: optional(z.string().regex(/^rediss?:\/\/\S+$/, 'CLUSTER_REDIS_URL must be redis://host:port')),
    // Cluster mode's engines take credentials, each from a file (a Compose or Kubernetes secret), never from a variable:
    // NATS a token (`authorization { token: … }` in every nats-server's configuration), Redis a password
    // (`requirepass`; or in CLUSTER_REDIS_URL as redis://:password@host). Cluster mode needs both.
    CLUSTER_NATS_TOKEN_FILE: optional(z.string()),
    CLUSTER_REDIS_PASSWORD_FILE: optional(z.string()),
    // The key that seals webhook secrets and checks device and people credentials, as a file every node reads;
    // unset, DATA_DIR/server.key (made on first start). Cluster mode needs it: a device must pass on any node.
    SERVER_KEY_FILE: optional(z.string()),
    // Fixed for the life of a cluster: a device's readings stay in one partition, so in one order.
    CLUSTER_PARTITIONS: z.coerce.number().int().min(1).max(256).default(12),
    CLUSTER_REPLICAS: z.coerce.number().int().min(1).max(5).default(3),
    // This node's name in leases, /ready and metrics; unset, the host name and the process id.
    CLUSTER_NODE_ID: optional(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'CLUSTER_NODE_ID: letters, digits, _ . - (at most 64)')),
    // A dead node's partitions are taken over this long after its last renewal.
    CLUSTER_LEASE_TTL_S: z.coerce.number().int().min(2).max(60).default(5),
    // What every reader of a partition has made durable is purged from the stream this often; 0, never.
    // Off by itself on a nats-server older than 2.9.18, which replays such a purge wrongly (cluster/purge-gate.ts).
    CLUSTER_PURGE_EVERY_S: z.coerce.number().int().min(0).max(3600).default(10),
    INFLUX_URL: optional(z.url()),
    INFLUX_DB: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('telemetry'),
    INFLUX_RP: z.string().default(''),
    INFLUX_TOKEN: optional(z.string()),
    INFLUX_BATCH_LINES: z.coerce.number().int().min(1).max(100_000).default(5000),
    INFLUX_FLUSH_MS: z.coerce.number().int().min(0).max(10_000).default(100),
    SPOOL_FSYNC: z.enum(['on', 'off']).default('on'),
    SPOOL_COMMIT_MS: z.coerce.number().min(0).max(100).default(2),
    SPOOL_SEGMENT_MB: z.coerce.number().int().min(1).max(1024).default(64),
    // Reached before the disk is full: past it, readings are not acknowledged (devices keep and resend them).
    SPOOL_MAX_MB: z.coerce.number().min(1).default(10_240),
    DATA_MIN_FREE_MB: z.coerce.number().min(0).default(256),
    // Bounded so an accepted time is always one InfluxDB can store (1677–2262) and the alert engine can trust.
    TIME_LATE_S: z.coerce
      .number()
      .int()
      .min(0)
      .max(10 * 366 * 86_400)
      .default(7 * 24 * 3600),
    TIME_EARLY_S: z.coerce.number().int().min(0).max(86_400).default(300),
    SOCKETIO_PING_INTERVAL_MS: z.coerce.number().int().min(100).default(25_000),
    SOCKETIO_PING_TIMEOUT_MS: z.coerce.number().int().min(100).default(20_000),
    // How often each live connection's session or token is checked again: sign-out, a disabled person, changed roles or
    // areas, a revoked or expired token all end the connection within this long.
    SOCKETIO_RECHECK_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
    OFFLINE_CHECK_MS: z.coerce.number().int().min(100).default(10_000),
    // Many devices of one site silent together are one incident: at least this many, or this share of the site's devices…
    INCIDENT_MIN_DEVICES: z.coerce.number().int().min(2).default(5),
    INCIDENT_MIN_SHARE: z.coerce.number().min(0).max(1).default(0.5),
    // …last heard within this many seconds of each other.
    INCIDENT_WITHIN_S: z.coerce.number().int().min(1).max(86_400).default(900),
    // Puts a cost on energy wasted out of hours (energy-out-of-hours alerts): £ per kWh.
    ENERGY_TARIFF_GBP_PER_KWH: z.coerce.number().min(0).max(100).default(0.25),
    // Open data (issue 13): who the catalogue names as publisher, and the licence every dataset is published under
    // (the Open Government Licence v3.0 unless the council chooses another).
    OPEN_DATA_PUBLISHER: z.string().trim().min(1).max(200).default('the council'),
    OPEN_DATA_LICENCE_URL: optional(z.url({ protocol: /^https?$/ })),
    // The Things Stack's MQTT integration (issue 14), beside or instead of its webhook: all three, or none.
    // Username {application}@{tenant} (@ttn on TTN); the API key needs the application's traffic read right.
    TTS_MQTT_URL: optional(z.url({ protocol: /^mqtts?$/, error: 'TTS_MQTT_URL must be mqtt:// or mqtts://' })),
    TTS_MQTT_USERNAME: optional(
      z.string().regex(/^[a-z0-9](?:-?[a-z0-9])*(@[a-z0-9](?:-?[a-z0-9])*)?$/, 'TTS_MQTT_USERNAME is {application}@{tenant}'),
    ),
    TTS_MQTT_API_KEY: optional(z.string().min(1)),
    QUARANTINE_MAX_ENTRIES: z.coerce.number().int().min(100).default(100_000),
    QUARANTINE_MAX_AGE_DAYS: z.coerce.number().min(1).default(30),
    // The address people reach the dashboard at (https://… behind a TLS proxy): invitation links and the SSO redirect use it,
    // and an https address makes the session cookie Secure.
    HTTP_PUBLIC_URL: optional(z.url({ protocol: /^https?$/ })),
    // A session ends after this long without a request, and in any case this long after sign-in.
    SESSION_IDLE_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(60),
    SESSION_MAX_HOURS: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 7)
      .default(12),
    INVITATION_TTL_HOURS: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 14)
      .default(72),
    // Single sign-on through the council's OpenID Connect provider: all three, or none.
    OIDC_ISSUER: optional(z.url({ protocol: /^https?$/ })),
    OIDC_CLIENT_ID: optional(z.string().min(1)),
    OIDC_CLIENT_SECRET: optional(z.string().min(1)),
    // The claim that lists a person's groups, and a JSON map from group to grants, e.g. {"waste-north":[{"role":"crew","areas":["north"]}]}.
    OIDC_GROUPS_CLAIM: z.string().min(1).default('groups'),
    OIDC_GROUP_MAP: z.preprocess(
      (v) => {
        if (v === undefined || v === '') return {}
        try {
          return JSON.parse(String(v))
        } catch {
          return v
        }
      },
      z.record(z.string().min(1), Grants, { error: 'OIDC_GROUP_MAP must be JSON: {"<group>": [{"role": "crew", "areas": ["<area>"]}]}' }),
    ),
    // The outbox (issue 14): a delivery is retried with exponential backoff and jitter, from OUTBOX_BACKOFF_FIRST_MS
    // doubling up to OUTBOX_BACKOFF_MAX_MS, for OUTBOX_RETRY_HOURS after its first attempt; then it is dead-lettered.
    OUTBOX_RETRY_HOURS: z.coerce
      .number()
      .positive()
      .max(24 * 14)
      .default(24),
    OUTBOX_BACKOFF_FIRST_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
    OUTBOX_BACKOFF_MAX_MS: z.coerce.number().int().min(10).max(86_400_000).default(3_600_000),
    // Deliveries in flight at once, each to a different target: a slow target holds one of these, never the others.
    OUTBOX_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
    // A webhook receiver's 2xx must arrive within this long.
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
    // Host names or IP addresses webhooks may reach although they are private, loopback or link-local (comma-separated).
    WEBHOOK_ALLOW_HOSTS: z.preprocess(splitList, z.array(z.string().trim().toLowerCase().min(1).max(253)).default([])),
    // After a secret rotation the old secret still signs (beside the new one) for this long.
    WEBHOOK_ROTATION_OVERLAP_HOURS: z.coerce
      .number()
      .min(0)
      .max(24 * 14)
      .default(24),
    // Open311 GeoReport v2 out (issue 14): the contractor's or "report it" system's endpoint, and which rules make a
    // service request there with which service code (bin-not-collected=WM-MISSED,bin-fire=FIRE). Off when unset.
    OPEN311_URL: optional(z.url({ protocol: /^https?$/, error: 'OPEN311_URL must be the http(s) base URL of a GeoReport v2 endpoint' })),
    OPEN311_API_KEY: optional(z.string().min(1).max(500)),
    OPEN311_JURISDICTION_ID: optional(z.string().min(1).max(200)),
    OPEN311_SERVICE_CODES: z
      .string()
      .default('')
      .transform((text, ctx) => {
        const codes = parseServiceCodes(text)
        if (typeof codes !== 'string') return codes
        ctx.addIssue({ code: 'custom', message: codes })
        return z.NEVER
      }),
    // How often requests not yet closed are asked about (GET requests/{id}.json).
    OPEN311_POLL_S: z.coerce.number().min(0.2).max(86_400).default(300),
    // Web Push (issue 14): the operator's contact that push services see (mailto: or https:). Set, critical alerts
    // go to the phones people subscribed from the crew view; the VAPID key pair is made once and kept in the store.
    VAPID_SUBJECT: optional(
      z.string().regex(/^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/, 'VAPID_SUBJECT must be mailto:someone@council.gov.uk or an https: URL'),
    ),
    // Email (issue 14): smtp://user:password@host:587 (STARTTLS when offered) or smtps://…:465, credentials percent-encoded
    // in the URL. Set, people who choose it get critical alerts at once and a daily digest; EMAIL_FROM is then required.
    SMTP_URL: optional(
      z
        .url({ protocol: /^smtps?$/, error: 'SMTP_URL must be smtp://user:password@host:port or smtps://…' })
        .refine((u) => !URL.canParse(u) || new URL(u).hostname !== '', 'SMTP_URL names no host: smtp://user:password@host:port'),
    ),
    // The sender people see, e.g. "Smartplace <alerts@council.gov.uk>".
    EMAIL_FROM: optional(
      z
        .string()
        .trim()
        .regex(
          /^(?:[^<>\r\n]{1,100} <[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/,
          'EMAIL_FROM must be an address, or a name and an address: Smartplace <alerts@council.gov.uk>',
        ),
    ),
    // The hour (London time, 0-23) the daily digest is made; a service started after it makes that day's at once.
    DIGEST_HOUR: z.coerce.number().int().min(0).max(23).default(7),
    ADMIN_TOKEN: optional(z.string().min(32, 'ADMIN_TOKEN must be at least 32 characters (use `openssl rand -base64 32`)')),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  })
  .refine((c) => c.MQTT_AUTH === 'on' || LOOPBACK.has(c.MQTT_HOST), {
    path: ['MQTT_AUTH'],
    message:
      'MQTT_AUTH=off (the conformance-test profile) is allowed only with MQTT_HOST=127.0.0.1, ::1 or localhost; MQTT_WS_PORT must be off',
  })
  .refine((c) => c.MQTT_AUTH === 'on' || c.MQTT_WS_PORT === null, {
    path: ['MQTT_WS_PORT'],
    message: 'MQTT_AUTH=off needs MQTT_WS_PORT=off: the WebSocket listener is not bound to MQTT_HOST alone',
  })
  .superRefine((c, ctx) => {
    const oidc = [c.OIDC_ISSUER, c.OIDC_CLIENT_ID, c.OIDC_CLIENT_SECRET]
    if (oidc.some(Boolean) && !oidc.every(Boolean)) {
      for (const [name, v] of [
        ['OIDC_ISSUER', c.OIDC_ISSUER],
        ['OIDC_CLIENT_ID', c.OIDC_CLIENT_ID],
        ['OIDC_CLIENT_SECRET', c.OIDC_CLIENT_SECRET],
      ] as const) {
        if (!v)
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `single sign-on needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET; ${name} is not set`,
          })
      }
    }
    if (!c.MQTT_TLS_CERT !== !c.MQTT_TLS_KEY) {
      const missing = c.MQTT_TLS_CERT ? 'MQTT_TLS_KEY' : 'MQTT_TLS_CERT'
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: `MQTT TLS needs both MQTT_TLS_CERT and MQTT_TLS_KEY (PEM file paths); ${missing} is not set`,
      })
    }
    const tls = Boolean(c.MQTT_TLS_CERT && c.MQTT_TLS_KEY)
    const listeners = [c.MQTT_PORT, c.MQTT_WS_PORT, tls ? c.MQTT_TLS_PORT : null, tls ? c.MQTT_WSS_PORT : null]
    if (listeners.every((p) => p === null)) {
      ctx.addIssue({
        code: 'custom',
        path: ['MQTT_PORT'],
        message: 'no MQTT listener is left on: with MQTT_PORT=off, set MQTT_TLS_CERT and MQTT_TLS_KEY (MQTT over TLS on MQTT_TLS_PORT)',
      })
    }
    if (c.MQTT_AUTH === 'off' && tls && c.MQTT_WSS_PORT !== null) {
      ctx.addIssue({
        code: 'custom',
        path: ['MQTT_WSS_PORT'],
        message: 'MQTT_AUTH=off needs MQTT_WSS_PORT=off, as it needs MQTT_WS_PORT=off',
      })
    }
  })
  .refine(
    (c) =>
      [c.TTS_MQTT_URL, c.TTS_MQTT_USERNAME, c.TTS_MQTT_API_KEY].every(Boolean) ||
      ![c.TTS_MQTT_URL, c.TTS_MQTT_USERNAME, c.TTS_MQTT_API_KEY].some(Boolean),
    {
      path: ['TTS_MQTT_URL'],
      message: 'the TTS MQTT integration needs TTS_MQTT_URL, TTS_MQTT_USERNAME and TTS_MQTT_API_KEY, or none of them',
    },
  )
  // Checked even when other variables are bad, so a missing sender is reported with them.
  .refine((c) => !c.SMTP_URL || Boolean(c.EMAIL_FROM), {
    path: ['EMAIL_FROM'],
    message: 'email (SMTP_URL) needs EMAIL_FROM, the sender people see: Smartplace <alerts@council.gov.uk>',
    when: (p) => typeof p.value === 'object' && p.value !== null,
  })
  .superRefine((c, ctx) => {
    const cluster = [c.CLUSTER_NATS_URL, c.CLUSTER_REDIS_URL]
    if (!cluster.some(Boolean)) return
    if (!c.CLUSTER_NATS_URL)
      ctx.addIssue({ code: 'custom', path: ['CLUSTER_NATS_URL'], message: 'cluster mode needs CLUSTER_NATS_URL with CLUSTER_REDIS_URL' })
    if (!c.CLUSTER_REDIS_URL)
      ctx.addIssue({ code: 'custom', path: ['CLUSTER_REDIS_URL'], message: 'cluster mode needs CLUSTER_REDIS_URL with CLUSTER_NATS_URL' })
    if (!c.CLUSTER_NATS_TOKEN_FILE)
      ctx.addIssue({
        code: 'custom',
        path: ['CLUSTER_NATS_TOKEN_FILE'],
        message:
          "cluster mode needs CLUSTER_NATS_TOKEN_FILE, the NATS servers' token as a file (openssl rand -hex 32 > nats.token; the servers' authorization { token } holds the same)",
      })
    if (!c.CLUSTER_REDIS_PASSWORD_FILE && !/^rediss?:\/\/[^@/]*:[^@/]+@/.test(c.CLUSTER_REDIS_URL ?? ''))
      ctx.addIssue({
        code: 'custom',
        path: ['CLUSTER_REDIS_PASSWORD_FILE'],
        message:
          "cluster mode needs Redis's password: CLUSTER_REDIS_PASSWORD_FILE (a file holding its requirepass), or redis://:password@host in CLUSTER_REDIS_URL",
      })
    if (!c.SERVER_KEY_FILE)
      ctx.addIssue({
        code: 'custom',
        path: ['SERVER_KEY_FILE'],
        message: 'cluster mode needs SERVER_KEY_FILE, one key file every node reads (openssl rand -base64 32 > server.key)',
      })
    if (!c.DATABASE_URL)
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_URL'],
        message: "cluster mode needs DATABASE_URL=postgres://…: every node shares one registry (SQLite is one machine's file)",
      })
  })
  .refine((c) => (c.OPEN311_URL === undefined) === (Object.keys(c.OPEN311_SERVICE_CODES).length === 0), {
    path: ['OPEN311_URL'],
    message: 'Open311 needs both OPEN311_URL and OPEN311_SERVICE_CODES (rule=SERVICE_CODE,…), or neither',
  })
export type ServiceConfig = z.infer<typeof ServiceConfig>

export type ConfigResult = { ok: true; config: ServiceConfig } | { ok: false; errors: string[] }

export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const r = ServiceConfig.safeParse(env)
  if (r.success) return { ok: true, config: r.data }
  return { ok: false, errors: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }
}
