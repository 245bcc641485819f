import type { Logger } from 'pino'
import {
  buildTopic,
  type Decoded,
  type Device,
  decodeTelemetry,
  deviceTypeOf,
  type LogRecord,
  QUARANTINE_PAYLOAD_MAX,
  type QuarantineEntry,
  type QuarantineRecord,
  ReadingRecord,
  type TimeWindow,
  type TopicParts,
} from '#devices'
import type { QuarantineStore } from '../store/quarantine-store.ts'
import type { LiveState } from './live-state.ts'
import type { IngestMetrics } from './metrics.ts'

export interface IngestDeps {
  /** The durable log: `done` runs once the record is on disk, or with the reason it could not be. */
  log: { append(record: LogRecord, done: (err: Error | null) => void): void }
  quarantine: Pick<QuarantineStore, 'update' | 'remove'>
  device(id: string): Promise<Device | null>
  live: LiveState
  metrics: IngestMetrics
  logger: Logger
  window: TimeWindow
  now?: () => number
}

export interface Ingest {
  /**
   * Handles one telemetry message of an authenticated device. `done` releases the
   * PUBACK, only once the outcome (reading or quarantine) is in the log: an error
   * means it is not stored and must not be acknowledged, so the device resends it.
   */
  handleTelemetry(device: Device, topic: TopicParts, payload: Buffer, done: (err: Error | null) => void): void
  /**
   * Validates a quarantined message again (after a registry or schema fix). A good
   * one is accepted as if it had just arrived and leaves quarantine; a bad one keeps
   * its entry with the new reason.
   */
  replay(entry: QuarantineEntry): Promise<'accepted' | 'rejected' | 'skipped'>
}

export type Good = Extract<Decoded, { outcome: 'accepted' | 'suspicious' }>

/** The log record of a good reading, whichever way it came in (MQTT, The Things Stack). */
export const readingRecord = (device: Device, d: Good, receivedAt: number): ReadingRecord => ({
  kind: 'reading',
  deviceId: device.id,
  type: device.type,
  site: device.site,
  uprn: device.uprn,
  ts: d.ts,
  receivedAt,
  quality: d.outcome === 'accepted' ? 'good' : 'suspect',
  readings: d.readings,
})

export function createIngest(deps: IngestDeps): Ingest {
  const now = deps.now ?? Date.now
  const { metrics, logger } = deps

  /** Appends a good reading; live state learns of it only once it is durable. */
  const accept = (device: Device, d: Good, done: (err: Error | null) => void) => {
    const rec = readingRecord(device, d, now())
    deps.log.append(rec, (err) => {
      if (!err) deps.live.reading(device, d.ts, d.outcome, d.readings)
      done(err)
    })
  }

  const appendAsync = (rec: LogRecord) => new Promise<void>((resolve, reject) => deps.log.append(rec, (e) => (e ? reject(e) : resolve())))

  return {
    handleTelemetry(device, topic, payload, done) {
      const d = decodeTelemetry(payload, deviceTypeOf(device.type)!, now(), deps.window)
      metrics.readings.inc({ outcome: d.outcome, type: device.type })
      if (d.outcome !== 'rejected') return accept(device, d, done)
      metrics.quarantined.inc({ code: d.code })
      if (logger.isLevelEnabled('debug')) logger.debug({ deviceId: device.id, code: d.code, reason: d.reason }, 'reading quarantined')
      const rec: QuarantineRecord = {
        kind: 'quarantine',
        receivedAt: now(),
        deviceId: device.id,
        topic: buildTopic(topic),
        code: d.code,
        reason: d.reason,
        issues: d.issues,
        payload: payload.subarray(0, QUARANTINE_PAYLOAD_MAX).toString('base64'),
      }
      // Acknowledged once kept: a battery device must not resend bad data forever.
      deps.log.append(rec, done)
    },
    async replay(entry) {
      const payload = Buffer.from(entry.payload, 'base64')
      if (entry.code === 'INFLUX_REJECTED') {
        // Already validated; InfluxDB refused it. Try it again, e.g. after the conflicting field was dropped.
        let rec: ReadingRecord
        try {
          rec = ReadingRecord.parse(JSON.parse(payload.toString('utf8')))
        } catch {
          return 'skipped'
        }
        await appendAsync(rec)
        await deps.quarantine.remove(entry.id)
        return 'accepted'
      }
      const device = entry.deviceId ? await deps.device(entry.deviceId) : null
      if (!device) {
        await deps.quarantine.update(entry.id, {
          code: 'DEVICE_UNKNOWN',
          reason: `device ${entry.deviceId ?? '?'} is not registered`,
          issues: [],
        })
        return 'skipped'
      }
      const d = decodeTelemetry(payload, deviceTypeOf(device.type)!, now(), deps.window)
      if (d.outcome === 'rejected') {
        await deps.quarantine.update(entry.id, { code: d.code, reason: d.reason, issues: d.issues })
        return 'rejected'
      }
      await new Promise<void>((resolve, reject) => accept(device, d, (e) => (e ? reject(e) : resolve())))
      metrics.readings.inc({ outcome: d.outcome, type: device.type })
      await deps.quarantine.remove(entry.id)
      return 'accepted'
    },
  }
}
