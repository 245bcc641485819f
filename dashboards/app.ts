import { existsSync } from 'node:fs'
import fastifyHelmet from '@fastify/helmet'
import fastifyStatic from '@fastify/static'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import type { Registry as MetricsRegistry } from 'prom-client'
import type { Device, DeviceState, LiveBus } from '#devices'
import type { InfluxQuery } from '../influx/query.ts'
import type { Registry } from '../store/registry.ts'
import { requireToken } from './auth.ts'
import { createAuthGuard } from './auth-guard.ts'
import { trustList } from './client-address.ts'
import { sendError } from './errors.ts'
import { registerRateLimits } from './rate-limits.ts'
import { alertRoutes } from './routes/alerts.ts'
import { type BinOutlookDeps, binOutlookRoutes } from './routes/bin-outlook.ts'
import { caseRoutes } from './routes/cases.ts'
import { deviceRoutes } from './routes/devices.ts'
import { faultCodeRoutes } from './routes/fault-codes.ts'
import { healthRoutes, metricsRoute, type ReadyCheck } from './routes/health.ts'
import { incidentRoutes } from './routes/incidents.ts'
import { type QuarantineRoutesDeps, quarantineRoutes } from './routes/quarantine.ts'
import { roundRoutes } from './routes/rounds.ts'
import { ruleRoutes } from './routes/rules.ts'
import { allowInlineStyle, helmetOptions } from './security-headers.ts'
import { attachSocketIo } from './socket-io.ts'

export interface HttpOptions {
  /** Reverse proxies whose X-Forwarded-For names the client (HTTP_TRUSTED_PROXIES); empty, the socket's peer is the client. */
  trustedProxies: readonly string[]
  /** Leaflet tile URL template (MAP_TILE_URL); its origin is allowed in img-src. */
  mapTileUrl: string | null
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
  socketIo: { pingIntervalMs: number; pingTimeoutMs: number }
  log: Logger
  /** Bins' fill outlook from the alert engine, and their next collection. */
  bins: Omit<BinOutlookDeps, 'registry'>
  /** Built web app (Vite output); null serves the API only. */
  webRoot: string | null
  http: HttpOptions
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const trustProxy = trustList(deps.http.trustedProxies)
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // Behind a proxy every client would share its address, and one guesser would block them all.
    trustProxy: deps.http.trustedProxies.length > 0 ? (address: string) => trustProxy(address) : false,
  })
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
  await app.register(fastifyHelmet, helmetOptions(deps.http.mapTileUrl))
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
  attachSocketIo(app, { verify: deps.registry.admin.verify, guard, trustProxy, bus: deps.bus, ...deps.socketIo })

  await app.register(healthRoutes({ ready: deps.ready }))
  await app.register(async (api) => {
    api.addHook('onRequest', requireToken(deps.registry.admin.verify, guard))
    await api.register(
      deviceRoutes({ devices: deps.registry.devices, state: deps.state, disconnect: deps.disconnect, influx: deps.influx }),
    )
    await api.register(alertRoutes({ alerts: deps.registry.alerts, bus: deps.bus }))
    await api.register(faultCodeRoutes())
    await api.register(caseRoutes({ registry: deps.registry }))
    await api.register(incidentRoutes({ registry: deps.registry }))
    await api.register(ruleRoutes({ registry: deps.registry }))
    await api.register(roundRoutes({ registry: deps.registry }))
    await api.register(binOutlookRoutes({ registry: deps.registry, ...deps.bins }))
    await api.register(quarantineRoutes({ quarantine: deps.registry.quarantine, replay: deps.replay }))
    await api.register(metricsRoute({ metrics: deps.metrics }))
  })

  if (deps.webRoot && existsSync(deps.webRoot)) {
    await app.register(fastifyStatic, { root: deps.webRoot, prefix: '/', wildcard: false })
  }
  app.setNotFoundHandler((_req, reply) => sendError(reply, 404, 'NOT_FOUND'))
  return app
}
