import { z } from 'zod'

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])
const port = z.coerce.number().int().min(0).max(65535)
const optional = <T extends z.ZodType>(s: T) => z.preprocess((v) => (v === '' ? undefined : v), s.optional())

/** Every variable the all-in-one service reads; parsed once, all errors reported together. */
export const ServiceConfig = z
  .object({
    DATA_DIR: z.string().min(1).default('./data'),
    HTTP_HOST: z.string().default('127.0.0.1'),
    HTTP_PORT: port.default(3000),
    MQTT_HOST: z.string().default('0.0.0.0'),
    MQTT_PORT: port.default(1883),
    MQTT_WS_PORT: z.preprocess((v) => (v === '' || v === 'off' ? null : v), port.nullable().default(8083)),
    MQTT_MAX_PACKET_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
    MQTT_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(20_000),
    MQTT_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).default(1000),
    MQTT_DEVICE_RATE: z.coerce.number().min(0).default(20),
    MQTT_DEVICE_BURST: z.coerce.number().int().min(1).default(100),
    MQTT_AUTH: z.enum(['on', 'off']).default('on'),
    MQTT_KEEPALIVE_LIMIT_S: z.coerce.number().int().min(0).default(3600),
    MQTT_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    // postgres://user:password@host:5432/db selects PostgreSQL for the registry; unset, SQLite under DATA_DIR.
    DATABASE_URL: optional(
      z.string().regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// or postgresql:// (leave it unset for SQLite)'),
    ),
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
    OFFLINE_CHECK_MS: z.coerce.number().int().min(100).default(10_000),
    QUARANTINE_MAX_ENTRIES: z.coerce.number().int().min(100).default(100_000),
    QUARANTINE_MAX_AGE_DAYS: z.coerce.number().min(1).default(30),
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
export type ServiceConfig = z.infer<typeof ServiceConfig>

export type ConfigResult = { ok: true; config: ServiceConfig } | { ok: false; errors: string[] }

export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const r = ServiceConfig.safeParse(env)
  if (r.success) return { ok: true, config: r.data }
  return { ok: false, errors: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }
}
