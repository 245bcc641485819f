import type { Logger } from 'pino'
import {
  type Device,
  decodeTelemetry,
  deviceTypeOf,
  type ErrorCode,
  type Issue,
  isRepeat,
  type LogRecord,
  QUARANTINE_PAYLOAD_MAX,
  RETRANSMIT_WINDOW_MS,
  rfc3339Ms,
  type TimeWindow,
  TtsApplicationUp,
  type TtsFrame,
  ttsDecoder,
  ttsTopic,
  uplinkLabel,
} from '#devices'
import type { TtsStore } from '../store/tts-store.ts'
import { type Good, type IngestDeps, readingRecord } from './ingest.ts'
import type { LiveState } from './live-state.ts'
import type { IngestMetrics } from './metrics.ts'
import type { TtsMetrics, TtsOutcome } from './tts-metrics.ts'

export interface TtsIngestDeps {
  log: IngestDeps['log']
  store: Pick<TtsStore, 'mappingFor' | 'framesWith' | 'noteFrame' | 'pruneFrames'>
  device(id: string): Promise<Device | null>
  live: LiveState
  metrics: IngestMetrics
  tts: TtsMetrics
  logger: Logger
  window: TimeWindow
  now?: () => number
}

export interface UplinkResult {
  outcome: TtsOutcome
  /** What happened, for the webhook's answer and the log. */
  detail: string
}

export interface TtsIngest {
  /**
   * Takes one application-up document posted by (or fetched from) TTS for an authenticated
   * application. Resolves once the outcome is in the log: a reading, a quarantine entry, or
   * nothing (a repeat, a non-uplink). `refused`: the log could not take it; nothing is stored.
   */
  handleUplink(applicationId: string, body: unknown): Promise<UplinkResult>
}

/** Frames are pruned on every this many notes: a cheap bound on the table without a timer. */
const PRUNE_EVERY = 500

/**
 * The Things Stack in (issue 14): maps the end device to ours, decodes `decoded_payload` to
 * our readings, then the same validation (decodeTelemetry), quarantine and log as MQTT
 * telemetry. `received_at` (Application Server time) is the observation time.
 */
export function createTtsIngest(deps: TtsIngestDeps): TtsIngest {
  const now = deps.now ?? Date.now
  const { metrics, logger } = deps
  // Uplinks of one device are taken one at a time, so the repeat check sees the previous one's frame.
  const lanes = new Map<string, Promise<unknown>>()
  let notes = 0

  const append = (rec: LogRecord) => new Promise<Error | null>((resolve) => deps.log.append(rec, resolve))

  const done = (outcome: TtsOutcome, detail: string): UplinkResult => {
    deps.tts.uplinks.inc({ outcome })
    return { outcome, detail }
  }

  const quarantine = async (
    q: { deviceId: string | null; topic: string; code: ErrorCode; reason: string; issues: Issue[] },
    payload: unknown,
  ): Promise<UplinkResult> => {
    const raw = Buffer.from(typeof payload === 'string' ? payload : (JSON.stringify(payload) ?? 'null'))
    const err = await append({
      kind: 'quarantine',
      receivedAt: now(),
      ...q,
      reason: q.reason.slice(0, 2000),
      payload: raw.subarray(0, QUARANTINE_PAYLOAD_MAX).toString('base64'),
    })
    if (err) return done('refused', err.message)
    metrics.quarantined.inc({ code: q.code })
    if (logger.isLevelEnabled('debug')) logger.debug({ topic: q.topic, code: q.code, reason: q.reason }, 'uplink quarantined')
    return done('quarantined', `${q.code}: ${q.reason}`)
  }

  const noteFrame = (deviceId: string, f: TtsFrame) => {
    deps.store.noteFrame(deviceId, f).catch((e: Error) => logger.warn({ deviceId, err: e.message }, 'could not note the uplink frame'))
    if (++notes % PRUNE_EVERY === 0) {
      deps.store
        .pruneFrames(now() - deps.window.lateMs - RETRANSMIT_WINDOW_MS)
        .catch((e: Error) => logger.warn({ err: e.message }, 'could not prune uplink frames'))
    }
  }

  const inLane = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const prev = lanes.get(key) ?? Promise.resolve()
    const run = prev.then(work, work)
    const tail = run.catch(() => {})
    lanes.set(key, tail)
    void tail.then(() => lanes.get(key) === tail && lanes.delete(key))
    return run
  }

  return {
    async handleUplink(applicationId, body) {
      const parsed = TtsApplicationUp.safeParse(body)
      if (!parsed.success) {
        const issues = parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))
        const reason = `application ${applicationId}: not a The Things Stack v3 application-up document`
        return quarantine({ deviceId: null, topic: `tts/${applicationId}/-/up`, code: 'PAYLOAD_INVALID', reason, issues }, body)
      }
      const doc = parsed.data
      const ids = doc.end_device_ids
      if (ids.application_ids.application_id !== applicationId) {
        return done('forbidden', `the document is of application ${ids.application_ids.application_id}, the secret of ${applicationId}`)
      }
      const up = doc.uplink_message
      if (!up) return done('ignored', 'not an uplink message (join, downlink or location events are not readings)')
      const ref = { applicationId, deviceId: ids.device_id, devEui: ids.dev_eui }
      const label = uplinkLabel({ ...ref, fCnt: up.f_cnt })
      const topic = ttsTopic(applicationId, ids.device_id)
      const receivedAt = Math.floor(rfc3339Ms(doc.received_at))
      const mapping = await deps.store.mappingFor(ref)
      if (!mapping) {
        const reason = `${label}: no mapping to one of our devices (add one: POST /api/integrations/tts/mappings)`
        return quarantine({ deviceId: null, topic, code: 'DEVICE_UNKNOWN', reason, issues: [] }, body)
      }
      const device = await deps.device(mapping.deviceId)
      if (!device) {
        const reason = `${label}: mapped to ${mapping.deviceId}, which is not registered or has been revoked`
        return quarantine({ deviceId: mapping.deviceId, topic, code: 'DEVICE_UNKNOWN', reason, issues: [] }, body)
      }
      const decoder = ttsDecoder(mapping.decoder)
      if (!decoder || (decoder.deviceType !== null && decoder.deviceType !== device.type)) {
        const reason = `${label}: decoder ${mapping.decoder} does not decode for a ${device.type}; fix the mapping`
        return quarantine({ deviceId: device.id, topic, code: 'DEVICE_TYPE_MISMATCH', reason, issues: [] }, body)
      }
      const frame: TtsFrame = { fCnt: up.f_cnt, receivedAt, session: up.session_key_id ?? null }

      return inLane(device.id, async () => {
        if (isRepeat(frame, await deps.store.framesWith(device.id, frame.fCnt))) {
          return done('duplicate', `${label}: this uplink was already taken`)
        }
        const result = await take()
        if (result.outcome !== 'refused') noteFrame(device.id, frame)
        return result
      })

      async function take(): Promise<UplinkResult> {
        if (!up!.decoded_payload) {
          const warnings = up!.decoded_payload_warnings?.join('; ')
          const reason = `${label}: no decoded_payload (set a payload formatter for the device in TTS)${warnings ? `; TTS says: ${warnings}` : ''}`
          return quarantine({ deviceId: device!.id, topic, code: 'PAYLOAD_INVALID', reason, issues: [] }, body)
        }
        const r = decoder!.decode(up!.decoded_payload, mapping!.params)
        if (r.ok === 'skip') return done('skipped', `${label}: ${r.reason}`)
        if (r.ok === false) {
          return quarantine(
            { deviceId: device!.id, topic, code: 'PAYLOAD_INVALID', reason: `${label}: ${r.reason}`, issues: r.issues },
            body,
          )
        }
        // Our own envelope, so a quarantined one can be replayed like MQTT telemetry once the cause is fixed.
        const native = JSON.stringify({ ts: receivedAt, readings: r.readings })
        const d = decodeTelemetry(Buffer.from(native), deviceTypeOf(device!.type)!, now(), deps.window)
        metrics.readings.inc({ outcome: d.outcome, type: device!.type })
        if (d.outcome === 'rejected') {
          return quarantine({ deviceId: device!.id, topic, code: d.code, reason: `${label}: ${d.reason}`, issues: d.issues }, native)
        }
        return accept(device!, d, label)
      }
    },
  }

  async function accept(device: Device, d: Good, label: string): Promise<UplinkResult> {
    const err = await append(readingRecord(device, d, now()))
    if (err) return done('refused', err.message)
    deps.live.reading(device, d.ts, d.outcome, d.readings)
    return done(d.outcome, `${label}: ${d.outcome === 'accepted' ? 'stored' : `stored, flagged suspect (${d.suspect.join(', ')})`}`)
  }
}
