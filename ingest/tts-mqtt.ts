import mqtt, { type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import type { TtsIngest } from './tts-ingest.ts'

export interface TtsMqttOptions {
  /** The TTS Application Server's MQTT address: mqtts://eu1.cloud.thethings.network:8883 */
  url: string
  /** `{application}@{tenant}` (`@ttn` on TTN; the plain application id on The Things Stack Open Source). */
  username: string
  /** A TTS API key with the application's traffic read right; set in the environment, never defaulted. */
  apiKey: string
}

/** One document on the MQTT side is one uplink: the same bound as the webhook's body. */
const MAX_MESSAGE_BYTES = 64 * 1024

/**
 * The alternative to the webhook (standards.md §6): subscribes to the Application Server's
 * `v3/{app}@{tenant}/devices/+/up` and takes each uplink like a webhook post. TTS offers QoS 0
 * only, so an uplink the log refuses, or one sent while disconnected, is not sent again: the
 * Storage Integration catch-up fetches those.
 */
export function createTtsMqtt(opts: TtsMqttOptions, ingest: TtsIngest, logger: Logger) {
  const applicationId = opts.username.split('@')[0]!
  const topic = `v3/${opts.username}/devices/+/up`
  let client: MqttClient | null = null
  return {
    topic,
    start() {
      const c = mqtt.connect(opts.url, {
        username: opts.username,
        password: opts.apiKey,
        protocolVersion: 4,
        reconnectPeriod: 5_000,
        connectTimeout: 10_000,
        clean: true,
      })
      client = c
      c.on('connect', () => {
        logger.info({ topic }, 'subscribed to The Things Stack')
        c.subscribe(topic, { qos: 0 }, (err) => err && logger.error({ err: err.message }, 'TTS subscription refused'))
      })
      c.on('error', (e) => logger.warn({ err: e.message }, 'TTS MQTT connection failed; retrying'))
      c.on('message', (_t, payload) => {
        if (payload.byteLength > MAX_MESSAGE_BYTES) {
          logger.warn({ bytes: payload.byteLength }, 'TTS uplink over the size bound dropped')
          return
        }
        let doc: unknown
        try {
          doc = JSON.parse(payload.toString('utf8'))
        } catch {
          doc = payload.toString('utf8')
        }
        ingest
          .handleUplink(applicationId, doc)
          .then((r) => {
            if (r.outcome === 'refused')
              logger.warn({ detail: r.detail }, 'TTS uplink not stored; fetch it later with the Storage Integration catch-up')
          })
          .catch((e: Error) => logger.error({ err: e.message }, 'TTS uplink failed'))
      })
    },
    async close() {
      const c = client
      client = null
      if (c) await c.endAsync(true)
    },
  }
}
export type TtsMqtt = ReturnType<typeof createTtsMqtt>
