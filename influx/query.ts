import { z } from 'zod'

export interface InfluxQueryConfig {
  url: string
  db: string
  token: string | undefined
}

const QueryResult = z.object({
  results: z.array(
    z.object({
      error: z.string().optional(),
      series: z
        .array(
          z.object({
            name: z.string(),
            tags: z.record(z.string(), z.string()).optional(),
            columns: z.array(z.string()),
            values: z.array(z.array(z.unknown())),
          }),
        )
        .optional(),
    }),
  ),
})

export type Row = Record<string, unknown> & { time: number }

/** Quotes a string literal for InfluxQL. Callers validate ids first; this is the second fence. */
export const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
export const ident = (s: string) => `"${s.replace(/"/g, '\\"')}"`

/** InfluxQL over the v1 `/query` endpoint (design D5); never Flux. */
export function createInfluxQuery(config: InfluxQueryConfig) {
  const headers: Record<string, string> = config.token ? { Authorization: `Token ${config.token}` } : {}
  return {
    async query(q: string): Promise<Row[]> {
      const url = `${config.url}/query?${new URLSearchParams({ db: config.db, epoch: 'ms', q })}`
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) })
      if (!res.ok) throw new Error(`influx query failed: HTTP ${res.status} ${await res.text()}`)
      const body = QueryResult.parse(await res.json())
      const r = body.results[0]
      if (r?.error) throw new Error(`influx query failed: ${r.error}`)
      const rows: Row[] = []
      for (const s of r?.series ?? []) {
        for (const v of s.values) {
          // A GROUP BY tag query answers a series per tag value: the row carries it (e.g. device_id).
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
