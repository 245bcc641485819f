import type { Logger } from 'pino'
import {
  buildTopic,
  type Decoded,
  type Device,
  type DeviceTypeDef,
  decodeTelemetry,
  deviceTypeOf,
  type TimeWindow,
  type TopicParts,
} from '#devices'
import type { QuarantineEntry, QuarantineRepo } from '../registry/quarantine-repo.ts'
import type { Alerting } from './alerting.ts'
import { linePrefix, lineWith } from './line-protocol.ts'
import type { LiveState } from './live-state.ts'
import type { IngestMetrics } from './metrics.ts'
import type { Spool } from './spool/spool.ts'

export interface IngestDeps {
  quarantine: QuarantineRepo
  device(id: string): Device | null
  spool: Pick<Spool, 'append'>
  alerting: Alerting
  live: LiveState
  metrics: IngestMetrics
  log: Logger
  window: TimeWindow
  now?: () => number
}

export interface Ingest {
  /**
   * Handles one telemetry message of an authenticated device. `done` releases the
   * PUBACK: for a good reading only once it is in the spool (durable accept); an
   * error means it could not be stored and must not be acknowledged.
   */
  handleTelemetry(device: Device, topic: TopicParts, payload: Buffer, done: (err: Error | null) => void): void
  /**
   * Validates a quarantined message again (after a registry or schema fix). A good
   * one is accepted as if it had just arrived and leaves quarantine; a bad one keeps
   * its entry with the new reason.
   */
  replay(entry: QuarantineEntry): Promise<'accepted' | 'rejected' | 'skipped'>
}

export function createIngest(deps: IngestDeps): Ingest {
  const now = deps.now ?? Date.now
  const { metrics, log } = deps

  // Measurement and tags per device, built once per connection (the Device object lives as long as it).
  const prefixes = new WeakMap<Device, string>()
  const prefixOf = (device: Device, def: DeviceTypeDef) => {
    let p = prefixes.get(device)
    if (p === undefined) {
      p = linePrefix(def.measurement, { site: device.site, device_id: device.id, uprn: device.uprn })
      prefixes.set(device, p)
    }
    return p
  }

  /** Stores a good reading: live state and alerts at once, the spool before `done`. */
  const accept = (
    device: Device,
    def: DeviceTypeDef,
    d: Extract<Decoded, { outcome: 'accepted' | 'suspicious' }>,
    done: (err: Error | null) => void,
  ) => {
    const fields = d.outcome === 'suspicious' ? { ...d.readings, suspect: 1 } : d.readings
    const line = lineWith(prefixOf(device, def), fields, d.ts)
    // Alerts and live state do not wait for the disk or the database.
    deps.live.reading(device, d.ts, d.outcome, d.readings)
    // Suspicious readings are stored and flagged but never raise or clear alerts.
    if (d.outcome === 'accepted') deps.alerting.onReading(device, def, d.ts, d.readings)
    if (line) deps.spool.append(line, done)
    else done(null)
  }

  return {
    handleTelemetry(device, topic, payload, done) {
      const def = deviceTypeOf(device.type)!
      const d = decodeTelemetry(payload, def, now(), deps.window)
      metrics.readings.inc({ outcome: d.outcome, type: device.type })
      if (d.outcome !== 'rejected') return accept(device, def, d, done)
      metrics.quarantined.inc({ code: d.code })
      if (log.isLevelEnabled('debug')) log.debug({ deviceId: device.id, code: d.code, reason: d.reason }, 'reading quarantined')
      deps.quarantine.add({
        receivedAt: new Date(now()),
        deviceId: device.id,
        topic: buildTopic(topic),
        code: d.code,
        reason: d.reason,
        issues: d.issues,
        payload,
      })
      // The device is still acknowledged: a battery device must not resend bad data forever.
      done(null)
    },
    async replay(entry) {
      const payload = Buffer.from(entry.payload, 'base64')
      if (entry.code === 'INFLUX_REJECTED') {
        // Already validated; InfluxDB refused it. Try it again, e.g. after the conflicting field was dropped.
        await new Promise<void>((resolve, reject) => deps.spool.append(payload.toString('utf8'), (e) => (e ? reject(e) : resolve())))
        deps.quarantine.remove(entry.id)
        return 'accepted'
      }
      const device = entry.deviceId ? deps.device(entry.deviceId) : null
      const def = device ? deviceTypeOf(device.type) : undefined
      if (!device || !def) {
        deps.quarantine.update(entry.id, {
          code: 'DEVICE_UNKNOWN',
          reason: `device ${entry.deviceId ?? '?'} is not registered`,
          issues: [],
        })
        return 'skipped'
      }
      const d = decodeTelemetry(payload, def, now(), deps.window)
      if (d.outcome === 'rejected') {
        deps.quarantine.update(entry.id, { code: d.code, reason: d.reason, issues: d.issues })
        return 'rejected'
      }
      await new Promise<void>((resolve, reject) => accept(device, def, d, (e) => (e ? reject(e) : resolve())))
      metrics.readings.inc({ outcome: d.outcome, type: device.type })
      deps.quarantine.remove(entry.id)
      return 'accepted'
    },
  }
}
