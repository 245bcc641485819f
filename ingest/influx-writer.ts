import { InfluxDB } from '@influxdata/influxdb-client'
import type { Logger } from 'pino'
import { v1WriteTransport } from './v1-transport.ts'

export interface InfluxConfig {
  url: string
  db: string
  rp: string
  token: string | undefined
  batchSize: number
  flushIntervalMs: number
}

export interface ReadingWriter {
  write(line: string): void
  flush(): Promise<void>
  close(): Promise<void>
}

/**
 * Batched writer over the v1 API. Retries are unbounded in count and time:
 * the client's defaults (5 tries, 180 s, 32,000 lines) drop accepted readings.
 */
export function createInfluxWriter(config: InfluxConfig, log: Logger, onWritten?: (lines: number) => void): ReadingWriter {
  const base = new InfluxDB({ url: config.url, token: config.token ?? '' })
  const influx = new InfluxDB({ url: config.url, token: config.token ?? '', transport: v1WriteTransport(base.transport) })
  const bucket = config.rp ? `${config.db}/${config.rp}` : config.db
  const api = influx.getWriteApi('', bucket, 'ms', {
    batchSize: config.batchSize,
    flushInterval: config.flushIntervalMs,
    maxRetries: Number.MAX_SAFE_INTEGER,
    maxRetryTime: Number.MAX_SAFE_INTEGER,
    maxRetryDelay: 15_000,
    minRetryDelay: 200,
    maxBufferLines: 10_000_000,
    writeFailed(error, lines, attempt) {
      log.warn({ err: error.message, lines: lines.length, attempt }, 'influx write failed, will retry')
    },
    writeSuccess(lines) {
      onWritten?.(lines.length)
    },
  })
  return {
    write: (line) => api.writeRecord(line),
    flush: () => api.flush(),
    close: () => api.close(),
  }
}
