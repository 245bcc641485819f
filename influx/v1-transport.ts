import type { Transport } from '@influxdata/influxdb-client'

const PRECISION: Record<string, string> = { ns: 'n', us: 'u', ms: 'ms', s: 's' }

/**
 * Routes the v2 client's writes to the v1 `/write` endpoint (design D5): the one
 * write path that works on InfluxDB 1.x, 2.x (DBRP) and 3.x.
 */
export function v1WriteTransport(inner: Transport): Transport {
  const rewrite = (path: string) => {
    if (!path.startsWith('/api/v2/write')) return path
    const q = new URL(path, 'http://x').searchParams
    const [db, rp] = (q.get('bucket') ?? '').split('/')
    const p = new URLSearchParams({ db: db ?? '', precision: PRECISION[q.get('precision') ?? 'ns'] ?? 'n' })
    if (rp) p.set('rp', rp)
    return `/write?${p}`
  }
  return {
    send: (path, body, opts, cb) => inner.send(rewrite(path), body, opts, cb),
    request: (path, body, opts, started) => inner.request(rewrite(path), body, opts, started),
    iterate: (path, body, opts) => inner.iterate(rewrite(path), body, opts),
    chunkCombiner: inner.chunkCombiner,
  }
}
