import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { mappingKeyOf, TtsApplication, TtsId, TtsMapping, TtsMappingInput, ttsDecoder } from '#devices'
import { catchUp } from '../../ingest/tts-catch-up.ts'
import type { TtsIngest } from '../../ingest/tts-ingest.ts'
import type { TtsMqtt } from '../../ingest/tts-mqtt.ts'
import { newSecret } from '../../registry/credentials.ts'
import type { Registry } from '../../store/registry.ts'
import { bearerToken } from '../access/access-hook.ts'
import { audit } from '../access/audit.ts'
import { actorOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'
import { TTS_UPLINK_LIMIT } from '../rate-limits.ts'

/** One uplink document is 1–3 KB; TTS never sends one near this. */
export const TTS_BODY_LIMIT = 64 * 1024
/** How long TTS (or whoever posts) should wait when the log cannot take an uplink. */
export const TTS_RETRY_AFTER_S = 30
/** last_used_at is written at most this often per application, not per uplink. */
const USED_EVERY_MS = 60_000

const UplinkAnswer = z.object({
  outcome: z.enum(['accepted', 'suspicious', 'quarantined', 'duplicate', 'skipped', 'ignored']),
  detail: z.string(),
})

/**
 * The Things Stack in (issue 14): its webhook posts each uplink here with the application's
 * secret as a custom header; the answer is 200 only once the reading (or its quarantine entry)
 * is in the durable log. Administrators make the secret (shown once) and the device mappings.
 */
export const ttsRoutes =
  (deps: { registry: Registry; ingest: TtsIngest; mqtt?: TtsMqtt | null }): FastifyPluginAsyncZod =>
  async (app) => {
    const store = deps.registry.tts
    // The MQTT alternative runs while the HTTP side does: started once the service listens (log and readers
    // are up by then), stopped first on close, before the log is flushed.
    const { mqtt } = deps
    if (mqtt) {
      app.addHook('onReady', async () => mqtt.start())
      app.addHook('onClose', async () => mqtt.close())
    }
    const usedAt = new Map<string, number>()

    app.post(
      '/integrations/tts/uplink',
      {
        bodyLimit: TTS_BODY_LIMIT,
        config: { access: 'public', rateLimit: TTS_UPLINK_LIMIT },
        schema: {
          tags: ['the things stack'],
          description:
            'Webhook for The Things Stack v3 (uplink message). Authenticate with the application secret as a custom webhook header: Authorization: Bearer <secret>. 200 once stored in the log (or quarantined, or a repeated f_cnt); 503 with Retry-After when the log cannot take it (nothing kept).',
          security: [],
          response: { 200: UplinkAnswer, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody, 503: ErrorBody },
        },
      },
      async (req, reply) => {
        const secret = bearerToken(req.headers.authorization)
        const application = secret ? await store.applicationBySecret(deps.registry.hasher.hash(secret)) : undefined
        if (!application) return sendError(reply, 401, 'TTS_SECRET_INVALID')
        const now = Date.now()
        if (now - (usedAt.get(application.id) ?? 0) > USED_EVERY_MS) {
          usedAt.set(application.id, now)
          store
            .used(application.id, new Date(now))
            .catch((e: Error) => req.log.warn({ err: e.message }, 'could not note TTS application use'))
        }
        const r = await deps.ingest.handleUplink(application.id, req.body)
        if (r.outcome === 'forbidden') return sendError(reply, 403, 'TTS_APPLICATION_MISMATCH', r.detail)
        if (r.outcome === 'refused') {
          reply.header('retry-after', String(TTS_RETRY_AFTER_S))
          return sendError(reply, 503, 'NOT_STORED', `not stored: ${r.detail}`)
        }
        return { outcome: r.outcome, detail: r.detail }
      },
    )

    app.get(
      '/api/integrations/tts/applications',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['the things stack'],
          description: 'TTS applications that have a webhook secret.',
          response: { 200: z.array(TtsApplication) },
        },
      },
      async () => store.listApplications(),
    )

    app.post(
      '/api/integrations/tts/applications/:id/secret',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['the things stack'],
          description:
            'Makes a new webhook secret for the application, shown this once (only a keyed hash is kept); any earlier secret stops working at once. Put it in the TTS webhook as the custom header Authorization: Bearer <secret>.',
          params: z.object({ id: TtsId }),
          response: { 201: TtsApplication.extend({ secret: z.string() }) },
        },
      },
      async (req, reply) => {
        const secret = newSecret()
        const a = await store.setSecret(req.params.id, deps.registry.hasher.hash(secret), actorOf(req))
        await audit(deps.registry.audit, req, 'token-created', `tts-application:${a.id}`, { kind: 'tts-webhook-secret' })
        return reply.code(201).send({ ...a, secret })
      },
    )

    app.delete(
      '/api/integrations/tts/applications/:id',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['the things stack'],
          description: 'Removes the application: its webhook secret stops working at once.',
          params: z.object({ id: TtsId }),
          response: { 204: z.null(), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await store.removeApplication(req.params.id)))
          return sendError(reply, 404, 'NOT_FOUND', `no TTS application ${req.params.id}`)
        await audit(deps.registry.audit, req, 'token-revoked', `tts-application:${req.params.id}`, { kind: 'tts-webhook-secret' })
        return reply.code(204).send(null)
      },
    )

    app.post(
      '/api/integrations/tts/applications/:id/catch-up',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['the things stack'],
          description:
            "After a webhook outage: fetches the application's uplinks received after `after` from TTS's Storage Integration and takes each like a webhook post (repeats land once). The TTS API key (traffic read right) is used for this call only and never kept. Answers with counts and the `after` for a next call.",
          params: z.object({ id: TtsId }),
          body: z.strictObject({
            baseUrl: z.url({ protocol: /^https?$/ }).describe('the TTS cluster, e.g. https://eu1.cloud.thethings.network'),
            apiKey: z.string().min(1).max(200),
            after: z.iso.datetime({ offset: true }),
            limit: z.number().int().min(1).max(10_000).default(1000),
          }),
          response: {
            200: z.object({
              fetched: z.number().int(),
              outcomes: z.record(z.string(), z.number().int()),
              lastReceivedAt: z.string().nullable(),
              stopped: z.string().nullable(),
            }),
            503: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        try {
          return await catchUp({ ...req.body, applicationId: req.params.id }, deps.ingest)
        } catch (e) {
          return sendError(reply, 503, 'TTS_UNREACHABLE', `could not fetch from TTS: ${(e as Error).message}`)
        }
      },
    )

    app.get(
      '/api/integrations/tts/mappings',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['the things stack'],
          description: 'Which of our devices each TTS end device is.',
          response: { 200: z.array(TtsMapping) },
        },
      },
      async () => store.listMappings(),
    )

    app.post(
      '/api/integrations/tts/mappings',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['the things stack'],
          description:
            'Maps a TTS end device (by devEui, or by applicationId and ttsDeviceId) to one of our devices, with the decoder for its decoded_payload. Bin sensor decoders need params {"depthMm": <sensor to the bottom of the empty bin>, "fullMm"?: <distance counted as full>}.',
          body: TtsMappingInput,
          response: { 201: TtsMapping, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const m = req.body
        const device = await deps.registry.devices.get(m.deviceId)
        if (!device) return sendError(reply, 404, 'NOT_FOUND', `no device ${m.deviceId}`)
        const decoder = ttsDecoder(m.decoder)!
        if (decoder.deviceType !== null && decoder.deviceType !== device.type) {
          return sendError(
            reply,
            400,
            'BAD_REQUEST',
            `decoder ${decoder.id} decodes for a ${decoder.deviceType}; ${device.id} is a ${device.type}`,
          )
        }
        const params = decoder.params.safeParse(m.params)
        if (!params.success) {
          const issues = params.error.issues.map((i) => ({ path: ['body', 'params', ...i.path.map(String)].join('.'), message: i.message }))
          return sendError(reply, 400, 'BAD_REQUEST', `params for decoder ${decoder.id} are invalid`, issues)
        }
        const key = mappingKeyOf(m)
        const made = await store.addMapping({ key, deviceId: device.id, decoder: decoder.id, params: m.params }, actorOf(req))
        if (!made) return sendError(reply, 409, 'CONFLICT', `a mapping for ${key} exists; remove it first`)
        // Which sensor's readings become which device's is the device's identity: who changed it, and when, is kept.
        await audit(deps.registry.audit, req, 'tts-mapping-added', `tts-mapping:${key}`, { deviceId: device.id, decoder: decoder.id })
        return reply.code(201).send(made)
      },
    )

    app.delete(
      '/api/integrations/tts/mappings/:key',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['the things stack'],
          description: "Removes a mapping; the device's next uplinks are quarantined as unknown until it is mapped again.",
          params: z.object({ key: z.string().max(100) }),
          response: { 204: z.null(), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await store.removeMapping(req.params.key))) return sendError(reply, 404, 'NOT_FOUND', `no mapping ${req.params.key}`)
        await audit(deps.registry.audit, req, 'tts-mapping-removed', `tts-mapping:${req.params.key}`)
        return reply.code(204).send(null)
      },
    )
  }
