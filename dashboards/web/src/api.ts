import type { Alert, Collection, CrewToday, Device, DeviceState, Me } from '#devices'

export type DeviceWithState = Device & { state: DeviceState }

/**
 * How this tab proves who it is: the httpOnly session cookie (the browser sends it; our
 * script only adds the CSRF token it was given), or an automation token it holds itself.
 */
export type Credentials = { kind: 'session'; csrf: string } | { kind: 'bearer'; token: string }

/** A refusal from the API, with the stable code and hint it sent, and Retry-After on a 429. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly hint: string
  readonly retryAfterS: number
  /** Which fields of a 400 were wrong and why, as the server listed them. */
  readonly issues: { path: string; message: string }[]
  constructor(
    status: number,
    code: string,
    message: string,
    hint: string,
    retryAfterS: number,
    issues: { path: string; message: string }[] = [],
  ) {
    super(message)
    this.issues = issues
    this.status = status
    this.code = code
    this.hint = hint
    this.retryAfterS = retryAfterS
  }
}

const SAFE = new Set(['GET', 'HEAD'])

/** One JSON call to our own origin; a non-2xx answer becomes an ApiError. */
export async function request<T>(
  path: string,
  init: { method?: string; body?: unknown; credentials?: Credentials | null } = {},
): Promise<T> {
  const method = init.method ?? 'GET'
  const headers: Record<string, string> = {}
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const c = init.credentials
  if (c?.kind === 'bearer') headers.authorization = `Bearer ${c.token}`
  // The cookie rides along with any request the browser makes; this header proves our own script sent it.
  if (c?.kind === 'session' && !SAFE.has(method)) headers['x-csrf-token'] = c.csrf
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  })
  if (res.ok) return (res.status === 204 ? undefined : await res.json()) as T
  const body = (await res.json().catch(() => null)) as {
    error?: { code?: string; message?: string; hint?: string; issues?: { path: string; message: string }[] }
  } | null
  const e = body?.error
  throw new ApiError(
    res.status,
    e?.code ?? `HTTP_${res.status}`,
    e?.message ?? `${path}: HTTP ${res.status}`,
    e?.hint ?? '',
    Number(res.headers.get('retry-after')) || 1,
    Array.isArray(e?.issues) ? e.issues : [],
  )
}

/** The calls the dashboard makes once someone is signed in. */
export function createApi(credentials: Credentials) {
  const call = <T>(path: string, method = 'GET', body?: unknown) => request<T>(path, { method, body, credentials })
  return {
    /** Any call of our API with these credentials; the views' own calls go through these three. */
    send: call,
    get: <T>(path: string) => call<T>(path),
    post: <T>(path: string, body: unknown) => call<T>(path, 'POST', body),
    me: () => call<Me>('/api/me'),
    devices: () => call<DeviceWithState[]>('/api/devices'),
    openAlerts: () => call<Alert[]>('/api/alerts?status=open'),
    ack: (id: string) => call<Alert>(`/api/alerts/${encodeURIComponent(id)}/ack`, 'POST', {}),
    /** Today's list; `limit`: only its top, for the first rows. */
    crewToday: (limit?: number) => call<CrewToday>(`/api/crew/today${limit ? `?limit=${limit}` : ''}`),
    /** Marks a bin emptied now. */
    collected: (deviceId: string) => call<Collection>(`/api/bins/${encodeURIComponent(deviceId)}/collections`, 'POST', {}),
  }
}
export type Api = ReturnType<typeof createApi>
