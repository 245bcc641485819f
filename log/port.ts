import type { LogRecord } from '#devices'
import type { Damage } from './segments.ts'

export type AppendDone = (err: Error | null) => void

/** Why appends are refused right now; null while appending works. */
export interface Refusal {
  /** The local log's disk limits, or (cluster mode) the stream's: no quorum of replicas, or the stream at its ceiling. */
  code: 'LOG_CEILING' | 'DISK_LOW' | 'DISK_FULL' | 'DISK_ERROR' | 'NO_QUORUM' | 'STREAM_FULL'
  detail: string
  since: number
}

/**
 * The durable accept (design §5): what ingest, /ready, the metrics and the service need of the log.
 * One machine: the local segment files (log.ts). Cluster mode: a replicated NATS JetStream stream
 * (stream-log.ts). `done` runs once the record cannot be lost, or with why it could not be kept.
 */
export interface DurableLog {
  start(): void | Promise<void>
  append(record: LogRecord, done: AppendDone): void
  /** Resolves once everything appended so far is durable (or refused). */
  flush(): Promise<void>
  readonly refusal: Refusal | null
  /** Damage found at start (the local log's torn tails and bad frames; none in a stream). */
  readonly damage: readonly Damage[]
  stats(): { bytes: number; segments: number; free: number | null }
  close(deadline?: number): Promise<void>
}
