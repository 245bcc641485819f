import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'

export interface PostResult {
  status: number
  headers: http.IncomingHttpHeaders
  /** The start of the answer's body, for the delivery log. */
  body: string
}

export interface PostOptions {
  /** The address checked by the target policy: the connection goes there and nowhere else (no second DNS answer). */
  address: { address: string; family: 4 | 6 }
  timeoutMs: number
  signal?: AbortSignal | undefined
  headers: Record<string, string>
  /** How much of the answer's body is kept (default 500 bytes, enough for a delivery log's error). */
  maxBody?: number | undefined
  /**
   * A second copy harms nothing (a webhook's id deduplicates it, a push message's tag replaces it): a
   * kept connection reset as it was reused is tried once more at once on a new one. Not for an
   * Open311 request, which would be made twice.
   */
  idempotent?: boolean | undefined
}

const BODY_KEPT = 500
/** Idle connections close before the receiver's own keep-alive timeout (5 s in Node and many others) would cut them. */
const IDLE_MS = 4_000
/** Targets with a connection kept at once; beyond it the least recently used pool is closed. */
const POOLS = 1_000

/**
 * Kept-alive connections per target and checked address. A new TCP (and TLS) connection per delivery
 * cost more than the delivery itself; the pool is keyed by the address the target policy checked,
 * so a connection is never reused for an address that was not checked.
 */
const pools = new Map<string, http.Agent>()
function agentFor(url: URL, address: string): http.Agent {
  const key = `${url.protocol}//${url.host}@${address}`
  let agent = pools.get(key)
  if (agent) {
    pools.delete(key)
    pools.set(key, agent)
    return agent
  }
  const options = { keepAlive: true, maxSockets: 8, maxFreeSockets: 8, timeout: IDLE_MS, scheduling: 'lifo' as const }
  agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options)
  pools.set(key, agent)
  // Over the bound, the least recently used pool with no request in flight is closed (never one mid-request).
  if (pools.size > POOLS)
    for (const [k, a] of pools)
      if (Object.keys(a.sockets).length === 0) {
        pools.delete(k)
        a.destroy()
        break
      }
  return agent
}

/** Closes every kept connection (at shutdown, and between tests). */
export function closeConnections(): void {
  for (const a of pools.values()) a.destroy()
  pools.clear()
}

/**
 * POSTs `body` to `url`, connected to the given address. Redirects are not followed (the 3xx is the
 * answer); the whole exchange up to the answer's status has `timeoutMs`.
 */
export function postPinned(url: URL, body: string | Buffer, o: PostOptions): Promise<PostResult> {
  return requestPinned('POST', url, body, o)
}

/** As postPinned, for any method; a GET sends no body. */
export async function requestPinned(method: 'GET' | 'POST', url: URL, body: string | Buffer | null, o: PostOptions): Promise<PostResult> {
  try {
    return await once(method, url, body, o)
  } catch (e) {
    // A kept connection reset as it was reused: most often the receiver closed it while it was idle.
    const reset = (e as { reusedSocket?: boolean }).reusedSocket && (e as NodeJS.ErrnoException).code === 'ECONNRESET'
    if (reset && (method === 'GET' || o.idempotent) && !o.signal?.aborted) return once(method, url, body, o)
    throw e
  }
}

function once(method: 'GET' | 'POST', url: URL, body: string | Buffer | null, o: PostOptions): Promise<PostResult> {
  const keep = o.maxBody ?? BODY_KEPT
  const pinned: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all)
      (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [o.address])
    else cb(null, o.address.address, o.address.family)
  }
  const mod = url.protocol === 'https:' ? https : http
  return new Promise<PostResult>((resolve, reject) => {
    const req = mod.request(
      {
        method,
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers:
          body === null
            ? o.headers
            : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...o.headers },
        lookup: pinned,
        agent: agentFor(url, o.address.address),
        signal: o.signal,
      },
      (res) => {
        clearTimeout(timer)
        const chunks: Buffer[] = []
        let kept = 0
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.on('data', (c: Buffer) => {
          if (kept < keep) {
            chunks.push(c.subarray(0, keep - kept))
            kept += c.length
          }
          if (kept >= keep) {
            res.destroy()
            done()
          }
        })
        res.on('end', done)
        res.on('error', done)
        // The status is the answer: a body that trickles must not hold the slot past the timeout.
        res.setTimeout(o.timeoutMs, () => {
          res.destroy()
          done()
        })
      },
    )
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)), o.timeoutMs)
    req.on('error', (e) => {
      clearTimeout(timer)
      reject(Object.assign(e, { reusedSocket: req.reusedSocket }))
    })
    req.end(body ?? undefined)
  })
}
