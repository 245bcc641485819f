import type { Logger } from 'pino'
import { type Device, decodeTelemetry, deviceTypeOf, type TimeWindow, type TopicParts } from '#devices'
import type { QuarantineRepo } from '../registry/quarantine-repo.ts'
import type { Alerting } from './alerting.ts'
import type { ReadingWriter } from './influx-writer.ts'
import { toLine } from './line-protocol.ts'
import type { LiveState } from './live-state.ts'
import type { IngestMetrics } from './metrics.ts'

export interface IngestDeps {
  quarantine: QuarantineRepo
  writer: ReadingWriter
  alerting: Alerting
  live: LiveState
  metrics: IngestMetrics
  log: Logger
  window: TimeWindow
  now?: () => number
}

export interface Ingest {
  /** Handles one telemetry message of an authenticated device; `done` releases the PUBACK. */
  handleTelemetry(device: Device, topic: TopicParts, payload: Buffer, done: () => void): void
}

export function createIngest(deps: IngestDeps): Ingest {
  const now = deps.now ?? Date.now
  const { metrics, log } = deps

  return {
    handleTelemetry(device, topic, payload, done) {
      const def = deviceTypeOf(device.type)!
      const d = decodeTelemetry(payload, def, now(), deps.window)
      metrics.readings.inc({ outcome: d.outcome, type: device.type })
      if (d.outcome === 'rejected') {
        metrics.quarantined.inc({ code: d.code })
        if (log.isLevelEnabled('debug')) log.debug({ deviceId: device.id, code: d.code, reason: d.reason }, 'reading quarantined')
        deps.quarantine.add({
          receivedAt: new Date(now()),
          deviceId: device.id,
          topic: `sp/v1/${topic.site}/${topic.type}/${topic.deviceId}/${topic.channel}`,
          code: d.code,
          reason: d.reason,
          issues: d.issues,
          payload,
        })
        // The device is still acknowledged: a battery device must not resend bad data forever.
        return done()
      }
      const fields = d.outcome === 'suspicious' ? { ...d.readings, suspect: 1 } : d.readings
      const line = toLine(def.measurement, { site: device.site, device_id: device.id, uprn: device.uprn }, fields, d.ts)
      if (line) deps.writer.write(line)
      deps.live.reading(device, d.ts, d.outcome, d.readings)
      // Suspicious readings are stored and flagged but never raise or clear alerts.
      if (d.outcome === 'accepted') deps.alerting.onReading(device, def, d.ts, d.readings)
      done()
    },
  }
}
