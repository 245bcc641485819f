import type { Logger } from 'pino'

/**
 * Drops the MQTT connection of a device revoked by another process (the devices CLI writes the
 * registry directly), which the API's revoke route cannot tell. The registry is the only channel.
 */
export interface RevocationWatch {
  start(): void
  close(deadline?: number): Promise<void>
}

export interface RevocationWatchDeps {
  devices: { revokedSince(sinceIso: string): Promise<{ id: string; revokedAt: string }[]> }
  disconnect(deviceId: string): void
  intervalMs?: number
  log?: Pick<Logger, 'info' | 'warn'>
  now?: () => number
}

// A trailing window rather than a cursor: a writer stamps revoked_at before it commits (and may wait
// up to SQLite's 5 s busy timeout for the lock), so a row can become visible with a time earlier than
// one already seen. Rows inside the window are few; `handled` keeps each from being acted on twice.
const WINDOW_MS = 60_000

export function createRevocationWatch(deps: RevocationWatchDeps): RevocationWatch {
  const intervalMs = deps.intervalMs ?? 2_000
  const now = deps.now ?? Date.now
  const handled = new Map<string, string>() // device id -> revokedAt
  let timer: NodeJS.Timeout | null = null
  let failing = false

  let polling: Promise<void> | null = null
  const poll = () => {
    // One poll at a time: a slow database must not stack them up.
    polling ??= pollOnce().finally(() => {
      polling = null
    })
  }
  const pollOnce = async () => {
    const since = new Date(now() - WINDOW_MS).toISOString()
    let rows: { id: string; revokedAt: string }[]
    try {
      rows = await deps.devices.revokedSince(since)
    } catch (e) {
      // Once per outage, not every interval.
      if (!failing) deps.log?.warn({ err: (e as Error).message }, 'cannot read revocations; retrying')
      failing = true
      return
    }
    if (failing) deps.log?.info({}, 'reading revocations again')
    failing = false
    for (const [id, at] of handled) if (at < since) handled.delete(id)
    for (const { id, revokedAt } of rows) {
      if (handled.has(id)) continue
      handled.set(id, revokedAt)
      try {
        // A no-op when the device is not connected here, e.g. revoked just before this service started.
        deps.disconnect(id)
        deps.log?.info({ deviceId: id, revokedAt }, 'device revoked; its connection, if any, is dropped')
      } catch (e) {
        // This runs on a timer, where a throw would end the process.
        deps.log?.warn({ deviceId: id, err: (e as Error).message }, 'cannot drop a revoked device')
      }
    }
  }

  return {
    start() {
      if (timer) return
      poll()
      // unref: the service's close stops it; it must not keep a finished process alive on its own.
      timer = setInterval(poll, intervalMs).unref()
    },
    async close() {
      if (timer) clearInterval(timer)
      timer = null
      await polling
    },
  }
}
