import { Counter, Gauge, type Registry } from 'prom-client'
import type { DurableLog } from './port.ts'
import type { Reader } from './reader.ts'

/** The log's and each reader's health as Prometheus metrics; gauges are read when scraped, not per record. */
export function logMetrics(
  register: Registry,
  log: Pick<DurableLog, 'stats' | 'refusal'>,
  readers: readonly Pick<Reader, 'name' | 'status'>[],
) {
  const refused = new Counter({
    name: 'sp_log_refused_total',
    help: 'Records refused by the log (not acknowledged; devices resend), by reason',
    labelNames: ['code'] as const,
    registers: [register],
  })
  const damage = new Counter({
    name: 'sp_log_damage_total',
    help: 'Damaged frames, torn tails and impossible checkpoints found, by reader (or "start" for the scan at start)',
    labelNames: ['reader'] as const,
    registers: [register],
  })
  const failures = new Counter({
    name: 'sp_reader_failures_total',
    help: 'Failed attempts of a log reader (each retried with backoff)',
    labelNames: ['reader'] as const,
    registers: [register],
  })
  new Gauge({
    name: 'sp_log_bytes',
    help: 'Bytes of the durable log on disk',
    registers: [register],
    collect() {
      this.set(log.stats().bytes)
    },
  })
  new Gauge({
    name: 'sp_log_refusing',
    help: '1 while the log refuses appends (ceiling, low or full disk, disk error)',
    registers: [register],
    collect() {
      this.set(log.refusal ? 1 : 0)
    },
  })
  const lag = (name: string, help: string, pick: (s: ReturnType<Reader['status']>) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['reader'] as const,
      registers: [register],
      collect() {
        for (const r of readers) this.set({ reader: r.name }, pick(r.status()))
      },
    })
  lag('sp_reader_lag_bytes', 'Bytes of the log a reader has not yet handled', (s) => s.lagBytes)
  lag('sp_reader_lag_records', 'Records a reader has not yet handled (estimated within one segment)', (s) => s.lagRecords)
  lag('sp_reader_oldest_seconds', 'Age of the oldest record a reader has not yet handled', (s) => (s.oldestMs ?? 0) / 1000)
  lag('sp_reader_healthy', '1 while a reader makes progress, 0 while it fails and retries', (s) => (s.error ? 0 : 1))
  return {
    refused: (code: string) => refused.inc({ code }),
    damage: (reader: string) => damage.inc({ reader }),
    failure: (reader: string) => failures.inc({ reader }),
  }
}
