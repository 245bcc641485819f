import { HttpError, InfluxDB } from '@influxdata/influxdb-client'
import { v1WriteTransport } from './v1-transport.ts'

export interface InfluxConfig {
  url: string
  db: string
  rp: string
  token: string | undefined
}

const SERVER_LIMIT = /max-series-per-database|max-values-per-tag|retention policy not found|database not found/i

/** What the drainer does with an answer: done, retry later, or split the batch to find a bad line. */
export type WriteOutcome = { kind: 'ok' } | { kind: 'retry'; reason: string } | { kind: 'bad-data'; reason: string }

/**
 * One write request through @influxdata/influxdb-client's transport, routed to the v1
 * `/write` endpoint. No client-side retry buffer: the spool is the buffer.
 */
export function createInfluxClient(config: InfluxConfig) {
  const base = new InfluxDB({ url: config.url, token: config.token ?? '', timeout: 30_000 })
  const transport = v1WriteTransport(base.transport)
  const bucket = config.rp ? `${config.db}/${config.rp}` : config.db
  const path = `/api/v2/write?org=&bucket=${encodeURIComponent(bucket)}&precision=ms`
  const headers = { 'content-type': 'text/plain; charset=utf-8' }

  return {
    async write(lines: string[]): Promise<WriteOutcome> {
      try {
        await transport.request(path, lines.join('\n'), { method: 'POST', headers })
        return { kind: 'ok' }
      } catch (e) {
        if (e instanceof HttpError) {
          const reason = `HTTP ${e.statusCode}: ${e.body || e.message}`.slice(0, 500)
          // A limit of the server (series or values per tag, a missing retention policy or database) is not about
          // one line: splitting would quarantine good readings, so it is retried until an operator fixes it.
          if (SERVER_LIMIT.test(reason)) return { kind: 'retry', reason }
          // 400 (1.x) and 422 (2.x) mean some line is unacceptable (e.g. a field type conflict); 413: too big.
          if (e.statusCode === 400 || e.statusCode === 422 || e.statusCode === 413) return { kind: 'bad-data', reason }
          return { kind: 'retry', reason }
        }
        // Node's HTTP parser refuses a response header holding the bad line InfluxDB echoed (a NUL, say):
        // that answer is about the data, so the batch is split to isolate the line, not retried forever.
        const code = (e as NodeJS.ErrnoException).code ?? ''
        if (code.startsWith('HPE_')) return { kind: 'bad-data', reason: `unreadable InfluxDB response (${code}): ${(e as Error).message}` }
        return { kind: 'retry', reason: (e as Error).message }
      }
    },
  }
}
export type InfluxClient = ReturnType<typeof createInfluxClient>
