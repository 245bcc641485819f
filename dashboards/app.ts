import { existsSync, readFileSync } from 'node:fs'
import { join, sep } from 'node:path'
import { constants as zlib } from 'node:zlib'
import fastifyCompress from '@fastify/compress'
import fastifyCookie from '@fastify/cookie'
import fastifyHelmet from '@fastify/helmet'
import fastifyStatic from '@fastify/static'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import type { Registry as MetricsRegistry } from 'prom-client'
import type { Device, DeviceState, LiveBus, Rule } from '#devices'
import type { InfluxQuery } from '../influx/query.ts'
import type { TtsIngest } from '../ingest/tts-ingest.ts'
import type { TtsMqtt } from '../ingest/tts-mqtt.ts'
import type { Registry } from '../store/registry.ts'
import { installAccess } from './access/access-hook.ts'
import { createAuthenticator } from './access/authenticate.ts'
import type { OidcOptions } from './access/oidc.ts'
import { collectRoutes } from './access/route-table.ts'
import { createSessions } from './access/sessions.ts'
import { createAuthGuard } from './auth-guard.ts'
import { trustList } from './client-address.ts'
import { sendError } from './errors.ts'
import { type ChangeClock, createChangeClock } from './open-data/change-clock.ts'
import { registerRateLimits } from './rate-limits.ts'
import { alertContractorRoutes } from './routes/alert-contractor.ts'
import { alertRoutes } from './routes/alerts.ts'
import { areaRoutes } from './routes/areas.ts'
import { auditRoutes } from './routes/audit.ts'
import { authRoutes } from './routes/auth.ts'
import { type BinOutlookDeps, binOutlookRoutes } from './routes/bin-outlook.ts'
import { caseRoutes } from './routes/cases.ts'
import { crewRoutes } from './routes/crew.ts'
import { deliveryRoutes } from './routes/deliveries.ts'
import { deviceRoutes } from './routes/devices.ts'
import { energyRoutes } from './routes/energy.ts'
import { faultCodeRoutes } from './routes/fault-codes.ts'
import { healthRoutes, metricsRoute, type ReadyCheck } from './routes/health.ts'
import { incidentRoutes } from './routes/incidents.ts'
import { oidcRoutes } from './routes/oidc.ts'
import { openDataAdminRoutes } from './routes/open-data.ts'
import { openDataPublicRoutes } from './routes/open-data-public.ts'
import { peopleRoutes } from './routes/people.ts'
import { pushRoutes } from './routes/push.ts'
import { type QuarantineRoutesDeps, quarantineRoutes } from './routes/quarantine.ts'
import { roundRoutes } from './routes/rounds.ts'
import { ruleRoutes } from './routes/rules.ts'
import { tokenRoutes } from './routes/tokens.ts'
import { ttsRoutes } from './routes/tts-uplink.ts'
import { type OutboxRoutesDeps, webhookRoutes } from './routes/webhooks.ts'
import { allowInlineStyle, helmetOptions, inlineScriptHashes } from './security-headers.ts'
import { attachSocketIo } from './socket-io.ts'

export interface HttpOptions {
  /** Reverse proxies whose X-Forwarded-For names the client (HTTP_TRUSTED_PROXIES); empty, the socket's peer is the client. */
  trustedProxies: readonly string[]
  /** Leaflet tile URL template (MAP_TILE_URL); its origin is allowed in img-src. */
  mapTileUrl: string | null
  /** Where people reach the dashboard (HTTP_PUBLIC_URL); https makes the session cookie Secure. Null: as each request came. */
  publicUrl: string | null
}

export interface PeopleOptions {
  sessionIdleMs: number
  sessionMaxMs: number
  invitationTtlMs: number
  /** OpenID Connect single sign-on; null when OIDC_ISSUER is not set. */
  oidc: OidcOptions | null
}

export interface AppDeps {
  registry: Registry
  bus: LiveBus
  state(device: Device): DeviceState
  disconnect(deviceId: string): void
  influx: InfluxQuery
  metrics: MetricsRegistry
  ready(): Promise<ReadyCheck>
  replay: QuarantineRoutesDeps['replay']
  socketIo: { pingIntervalMs: number; pingTimeoutMs: number; recheckMs: number; redisUrl?: string | null }
  log: Logger
  /** Bins' fill outlook from the alert engine, and their next collection. */
  bins: Omit<BinOutlookDeps, 'registry'>
  /** Built web app (Vite output); null serves the API only. */
  webRoot: string | null
  http: HttpOptions
  people: PeopleOptions
  /** The rules the alert engine applies to a device, overrides merged (the rule book). */
  rulesFor(device: { id: string; type: string; site: string }): readonly Rule[]
  /** The energy manager's figures: £ per kWh wasted (ENERGY_TARIFF_GBP_PER_KWH). */
  energy?: { tariffGbpPerKwh: number }
  /** Open data (issue 13): who the catalogue names as publisher, and the licence if not OGL v3; defaults when unset. */
  openData?: { publisher: string; licence: string | null; changes: ChangeClock }
  /** The Things Stack in (issue 14): the uplink webhook and its admin routes; absent, not served. */
  tts?: TtsIngest
  /** The TTS MQTT subscription, started and stopped with the HTTP app; null when not configured. */
  ttsMqtt?: TtsMqtt | null
  /** The outbox (issue 14): webhook subscriptions and the delivery log; absent, not served. */
  outbox?: OutboxRoutesDeps
}

/** ENERGY_TARIFF_GBP_PER_KWH's default (service/config.ts), for callers that do not pass `energy`. */
const DEFAULT_TARIFF_GBP_PER_KWH = 0.25

/** What a request log line says about the request. */
export function requestForLog(req: { method: string; routeOptions?: { url?: string }; url?: string }) {
  return { method: req.method, route: req.routeOptions?.url ?? 'unmatched' }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const trustProxy = trustList(deps.http.trustedProxies)
  const app = Fastify({
    // Requests are logged by method and route, never by client address, query or path values (an
    // invitation link's token is in its path): those are personal data or secrets.
    loggerInstance: deps.log.child({}, { serializers: { req: requestForLog } }) as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // Behind a proxy every client would share its address, and one guesser would block them all.
    trustProxy: deps.http.trustedProxies.length > 0 ? (address: string) => trustProxy(address) : false,
  })
  // First, before any plugin adds routes: the authorisation matrix test walks every one of them.
  collectRoutes(app)
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.setErrorHandler((err, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({
        path: `${err.validationContext ?? ''}${v.instancePath.replaceAll('/', '.')}`,
        message: v.message ?? 'invalid',
      }))
      return sendError(reply, 400, 'BAD_REQUEST', undefined, issues)
    }
    const e = err as { statusCode?: number; message?: string }
    // @fastify/rate-limit throws its refusal here after setting Retry-After.
    if (e.statusCode === 429) return sendError(reply, 429, 'RATE_LIMITED', e.message)
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply
        .code(e.statusCode)
        .send({ error: { code: 'BAD_REQUEST', message: e.message ?? 'bad request', hint: 'Check the request.' } })
    }
    req.log.error({ err }, 'request failed')
    return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error', hint: 'See the server log.' } })
  })

  // First, so that every answer carries the headers: 404s, errors, refusals and static files too.
  const page = deps.webRoot ? join(deps.webRoot, 'index.html') : null
  const scriptHashes = page && existsSync(page) ? inlineScriptHashes(readFileSync(page, 'utf8')) : []
  await app.register(fastifyHelmet, helmetOptions(deps.http.mapTileUrl, scriptHashes))
  // A crew's list of 2,000 bins is about 800 KB of JSON, four seconds on a weak phone signal; compressed it
  // is a tenth of that. Brotli at quality 4 costs about what gzip does; its default (11) would cost far more.
  await app.register(fastifyCompress, { threshold: 1024, brotliOptions: { params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } } })
  await registerRateLimits(app, deps.metrics)

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'smartplace API',
        version: '0.1.0',
        description:
          'Devices, readings, alerts and quarantine. Send Authorization: Bearer <token>. Repeated wrong tokens and heavy routes answer 429 with Retry-After.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', transformStaticCSP: allowInlineStyle })

  const guard = createAuthGuard({ metrics: deps.metrics, log: deps.log.child({ module: 'auth' }) })
  const { registry } = deps
  const sessions = createSessions({
    store: registry.sessions,
    hasher: registry.hasher,
    opts: { idleMs: deps.people.sessionIdleMs, maxMs: deps.people.sessionMaxMs },
  })
  const auth = createAuthenticator({
    people: registry.people,
    tokens: registry.tokens,
    areas: registry.areas,
    sessions,
    hasher: registry.hasher,
    guard,
    verifyAdminToken: registry.admin.verify,
  })
  await app.register(fastifyCookie)
  installAccess(app, auth)
  attachSocketIo(app, { auth, trustProxy, bus: deps.bus, registry, publicUrl: deps.http.publicUrl, ...deps.socketIo })

  await app.register(healthRoutes({ ready: deps.ready }))
  const accounts = { registry, sessions, auth, guard, publicUrl: deps.http.publicUrl, log: deps.log.child({ module: 'people' }) }
  await app.register(authRoutes({ ...accounts, invitationTtlMs: deps.people.invitationTtlMs }))
  await app.register(oidcRoutes({ ...accounts, oidc: deps.people.oidc }))
  await app.register(peopleRoutes({ ...accounts, invitationTtlMs: deps.people.invitationTtlMs }))
  await app.register(areaRoutes({ registry }))
  await app.register(tokenRoutes({ registry }))
  await app.register(auditRoutes({ registry }))
  await app.register(openDataAdminRoutes({ registry }))
  if (deps.tts) await app.register(ttsRoutes({ registry, ingest: deps.tts, mqtt: deps.ttsMqtt ?? null }))
  if (deps.outbox) {
    await app.register(webhookRoutes({ registry, ...deps.outbox }))
    await app.register(deliveryRoutes({ registry, wake: deps.outbox.wake }))
    await app.register(
      pushRoutes({ push: registry.push, vapidKeys: deps.outbox.push ? () => registry.vapidKeys() : null, policy: deps.outbox.policy }),
    )
  }
  await app.register(
    openDataPublicRoutes({
      registry,
      state: deps.state,
      influx: deps.influx,
      publicUrl: deps.http.publicUrl,
      publisher: deps.openData?.publisher,
      licence: deps.openData?.licence ?? null,
      changes: deps.openData?.changes ?? createChangeClock(),
    }),
  )
  await app.register(async (api) => {
    await api.register(
      deviceRoutes({
        devices: deps.registry.devices,
        state: deps.state,
        disconnect: deps.disconnect,
        influx: deps.influx,
        audit: deps.registry.audit,
      }),
    )
    await api.register(
      alertRoutes({
        alerts: deps.registry.alerts,
        bus: deps.bus,
        audit: deps.registry.audit,
        people: deps.registry.people,
        scopeOf: auth.scopeOf,
      }),
    )
    await api.register(alertContractorRoutes({ alerts: deps.registry.alerts, open311: deps.registry.open311 }))
    await api.register(faultCodeRoutes())
    await api.register(caseRoutes({ registry: deps.registry, bus: deps.bus }))
    await api.register(incidentRoutes({ registry: deps.registry }))
    await api.register(ruleRoutes({ registry: deps.registry }))
    await api.register(roundRoutes({ registry: deps.registry }))
    await api.register(binOutlookRoutes({ registry: deps.registry, ...deps.bins }))
    await api.register(crewRoutes({ registry: deps.registry, state: deps.state, mapTileUrl: deps.http.mapTileUrl, ...deps.bins }))
    await api.register(
      energyRoutes({
        devices: deps.registry.devices,
        rulesFor: deps.rulesFor,
        influx: deps.influx,
        tariffGbpPerKwh: deps.energy?.tariffGbpPerKwh ?? DEFAULT_TARIFF_GBP_PER_KWH,
      }),
    )
    await api.register(quarantineRoutes({ quarantine: deps.registry.quarantine, replay: deps.replay }))
    await api.register(metricsRoute({ metrics: deps.metrics }))
  })

  if (deps.webRoot && existsSync(deps.webRoot)) {
    const assets = join(deps.webRoot, 'assets') + sep
    await app.register(fastifyStatic, {
      root: deps.webRoot,
      prefix: '/',
      wildcard: false,
      // Vite names each built file by its content: a phone keeps it until the name changes, and asks
      // again each time only for the page, which names the current files.
      setHeaders: (reply, path) =>
        reply.header('cache-control', path.startsWith(assets) ? 'public, max-age=31536000, immutable' : 'no-cache'),
    })
  }
  app.setNotFoundHandler((_req, reply) => sendError(reply, 404, 'NOT_FOUND'))
  return app
}
