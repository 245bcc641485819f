import http from 'node:http'

export interface InfluxQueryConfig {
  url: string
  db: string
  token: string | undefined
}

export type Row = Record<string, unknown> & { time: number }

/** One series of a query's answer as InfluxDB sent it: `values` rows in `columns` order. */
export interface Series {
  tags: Record<string, string>
  columns: string[]
  values: unknown[][]
}

/**
 * The series of an answer, checked in place rather than copied: a year of daily buckets is
 * hundreds of rows a bin, and a schema parse would allocate each again. Anything that is not
 * InfluxDB's documented shape throws.
 */
function seriesOf(body: unknown): Series[] {
  const result = (body as { results?: unknown[] } | null)?.results?.[0] as { error?: unknown; series?: unknown } | undefined
  if (!result || typeof result !== 'object') throw new Error('influx query failed: no result')
  if (typeof result.error === 'string') throw new Error(`influx query failed: ${result.error}`)
  if (result.series === undefined) return []
  if (!Array.isArray(result.series)) throw new Error('influx query failed: series is not a list')
  for (const s of result.series as Series[]) {
    if (!s || !Array.isArray(s.columns) || !Array.isArray(s.values) || !s.values.every(Array.isArray))
      throw new Error('influx query failed: a series without columns and values')
    s.tags ??= {}
  }
  return result.series as Series[]
}

/** Quotes a string literal for InfluxQL. Callers validate ids first; this is the second fence. */
export const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
export const ident = (s: string) => `"${s.replace(/"/g, '\\"')}"`

/** Kept-alive connections for the many small queries of a streamed download. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })

/**
 * A GET answered as text, through node:http rather than fetch: a download of thousands of
 * queries allocates a fraction of what fetch's web streams do, and that garbage is what made a
 * long stream's memory grow (issue 13, acceptance 4). A timer cleared with the request, where
 * AbortSignal.timeout would keep each request reachable until it fired.
 */
function getText(url: string, headers: Record<string, string>, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        if (res.statusCode === 200) resolve(text)
        else reject(new Error(`influx query failed: HTTP ${res.statusCode} ${text.slice(0, 500)}`))
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`influx query timed out after ${timeoutMs / 1000} s`)))
    req.on('error', reject)
  })
}

/** InfluxQL over the v1 `/query` endpoint (design D5); never Flux. */
export function createInfluxQuery(config: InfluxQueryConfig) {
  const headers: Record<string, string> = config.token ? { Authorization: `Token ${config.token}` } : {}
  const series = async (q: string, timeoutMs = 30_000): Promise<Series[]> => {
    const url = `${config.url}/query?${new URLSearchParams({ db: config.db, epoch: 'ms', q })}`
    return seriesOf(JSON.parse(await getText(url, headers, timeoutMs)))
  }
  return {
    /** The answer's series as sent, for answers too large to copy row by row (epoch ms times). */
    series,
    /** The answer as rows; a GROUP BY tag query's rows carry their series' tags (e.g. device_id). */
    async query(q: string): Promise<Row[]> {
      const rows: Row[] = []
      for (const s of await series(q, 10_000)) {
        for (const v of s.values) {
          const row: Record<string, unknown> = { ...s.tags }
          s.columns.forEach((c, i) => {
            row[c] = v[i]
          })
          rows.push(row as Row)
        }
      }
      return rows
    },
    async ping(): Promise<boolean> {
      try {
        const res = await fetch(`${config.url}/ping`, { headers, signal: AbortSignal.timeout(2_000) })
        return res.status === 204 || res.ok
      } catch {
        return false
      }
    },
  }
}
export type InfluxQuery = ReturnType<typeof createInfluxQuery>
