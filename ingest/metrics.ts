import { Counter, type Registry } from 'prom-client'

export function ingestMetrics(register: Registry) {
  return {
    readings: new Counter({
      name: 'sp_ingest_readings_total',
      help: 'Telemetry messages by outcome (accepted, suspicious, rejected) and device type',
      labelNames: ['outcome', 'type'] as const,
      registers: [register],
    }),
    quarantined: new Counter({
      name: 'sp_ingest_quarantined_total',
      help: 'Telemetry messages quarantined, by reason code',
      labelNames: ['code'] as const,
      registers: [register],
    }),
    busErrors: new Counter({
      name: 'sp_bus_listener_errors_total',
      help: 'Live bus listeners that threw (isolated: other listeners and the emitter carried on)',
      labelNames: ['event'] as const,
      registers: [register],
    }),
    written: new Counter({ name: 'sp_influx_points_written_total', help: 'Points confirmed by InfluxDB', registers: [register] }),
  }
}
export type IngestMetrics = ReturnType<typeof ingestMetrics>
