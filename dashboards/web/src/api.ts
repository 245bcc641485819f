import type { Alert, Device, DeviceState } from '#devices'

export type DeviceWithState = Device & { state: DeviceState }

export class Unauthorised extends Error {}

/** The server refused to check the token for a while (AUTH_THROTTLED) or limited a heavy call (RATE_LIMITED). */
export class TooMany extends Error {
  readonly retryAfterS: number
  constructor(retryAfterS: number) {
    super(`too many attempts; try again in ${retryAfterS} s`)
    this.retryAfterS = retryAfterS
  }
}

export function createApi(token: string) {
  const call = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(path, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    })
    if (res.status === 401) throw new Unauthorised()
    if (res.status === 429) throw new TooMany(Number(res.headers.get('retry-after')) || 1)
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`)
    return (await res.json()) as T
  }
  return {
    devices: () => call<DeviceWithState[]>('/api/devices'),
    openAlerts: () => call<Alert[]>('/api/alerts?status=open'),
    ack: (id: string) => call<Alert>(`/api/alerts/${id}/ack`, { method: 'POST', body: '{}' }),
  }
}
