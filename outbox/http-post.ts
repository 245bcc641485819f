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
}

const BODY_KEPT = 500

/**
 * POSTs `body` to `url`, connected to the given address. Redirects are not followed (the 3xx is the
 * answer); the whole exchange up to the answer's status has `timeoutMs`.
 */
export function postPinned(url: URL, body: string | Buffer, o: PostOptions): Promise<PostResult> {
  return requestPinned('POST', url, body, o)
}

/** As postPinned, for any method; a GET sends no body. */
export function requestPinned(method: 'GET' | 'POST', url: URL, body: string | Buffer | null, o: PostOptions): Promise<PostResult> {
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
        agent: false,
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
      reject(e)
    })
    req.end(body ?? undefined)
  })
}
