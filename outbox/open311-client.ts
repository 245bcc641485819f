import type { z } from 'zod'
import { GeoReportCreatedList, GeoReportErrors, GeoReportRequestList, GeoReportTokenList } from '#devices'
import { type PostResult, requestPinned } from './http-post.ts'
import type { TargetPolicy } from './ssrf.ts'

export interface Open311Endpoint {
  /** The GeoReport v2 base URL; `requests.json` and the rest are relative to it. */
  url: string
  apiKey: string | undefined
  jurisdictionId: string | undefined
  timeoutMs: number
}

/** What a call came to: the parsed answer, or why not and whether trying again could help. */
export type Open311Answer<T> = { ok: true; value: T } | { ok: false; retry: boolean; error: string; retryAfter?: string | undefined }

const MAX_ANSWER = 64 * 1024
/** Statuses a later attempt may get past; any other 4xx is the server refusing this request. */
const TRANSIENT_4XX = new Set([408, 425, 429])

/** The server's own words from a GeoReport error list (its code too when it says more than the status), else the start of its body. */
function serverMessage(body: string, status: number): string {
  try {
    const errors = GeoReportErrors.safeParse(JSON.parse(body))
    if (errors.success)
      return errors.data
        .map((e) => [String(e.code ?? '') === String(status) ? null : e.code, e.description].filter((x) => x != null && x !== '').join(' '))
        .join('; ')
  } catch {}
  return body.trim().slice(0, 300)
}

/**
 * A GeoReport v2 client over JSON (standards.md §1), through the same target policy as webhooks
 * (a private or loopback endpoint must be listed in WEBHOOK_ALLOW_HOSTS) and to the address that
 * policy checked. Redirects are not followed.
 */
export function createOpen311Client(endpoint: Open311Endpoint, policy: TargetPolicy) {
  const base = endpoint.url.endsWith('/') ? endpoint.url : `${endpoint.url}/`

  async function call<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    form: URLSearchParams | null,
    schema: S,
    signal?: AbortSignal,
  ): Promise<Open311Answer<z.infer<S>>> {
    const url = new URL(path, base)
    if (endpoint.jurisdictionId) (form ?? url.searchParams).set('jurisdiction_id', endpoint.jurisdictionId)
    const check = await policy.check(url.hostname)
    if (!check.ok) return { ok: false, retry: check.code !== 'WEBHOOK_TARGET_REFUSED', error: check.message }
    let res: PostResult
    try {
      res = await requestPinned(method, url, form?.toString() ?? null, {
        address: check.addresses[0]!,
        timeoutMs: endpoint.timeoutMs,
        signal,
        maxBody: MAX_ANSWER,
        headers: {
          accept: 'application/json',
          'user-agent': 'smartplace-open311/1',
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } : {}),
        },
      })
    } catch (e) {
      return { ok: false, retry: true, error: (e as Error).message || String(e) }
    }
    const said = serverMessage(res.body, res.status)
    if (res.status < 200 || res.status >= 300) {
      const error = `HTTP ${res.status}${said ? `: ${said}` : ''}`
      if (res.status >= 300 && res.status < 400)
        return { ok: false, retry: true, error: `${error} (redirect to ${res.headers.location ?? '(none)'} not followed)` }
      const retry = res.status >= 500 || TRANSIENT_4XX.has(res.status)
      return { ok: false, retry, error, retryAfter: res.headers['retry-after'] as string | undefined }
    }
    let json: unknown
    try {
      json = JSON.parse(res.body)
    } catch {
      return { ok: false, retry: true, error: `HTTP ${res.status} but the answer is not JSON: ${res.body.slice(0, 200)}` }
    }
    const parsed = schema.safeParse(json)
    if (!parsed.success) return { ok: false, retry: true, error: `the answer is not GeoReport v2: ${parsed.error.issues[0]?.message}` }
    return { ok: true, value: parsed.data }
  }

  return {
    /** POST requests.json: the form carries the api_key (GeoReport puts it in the body). */
    create(fields: Record<string, string>, signal?: AbortSignal) {
      const form = new URLSearchParams(fields)
      if (endpoint.apiKey) form.set('api_key', endpoint.apiKey)
      return call('POST', 'requests.json', form, GeoReportCreatedList, signal)
    },
    token: (token: string) => call('GET', `tokens/${encodeURIComponent(token)}.json`, null, GeoReportTokenList),
    request: (id: string) => call('GET', `requests/${encodeURIComponent(id)}.json`, null, GeoReportRequestList),
  }
}
export type Open311Client = ReturnType<typeof createOpen311Client>
