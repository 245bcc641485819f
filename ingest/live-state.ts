import type { Device, DeviceState, LiveBus } from '#devices'

type Latest = NonNullable<DeviceState['latest']>

/** Latest reading and presence per device, kept in memory for the dashboard and API. */
export interface LiveState {
  reading(device: Device, ts: number, outcome: Latest['outcome'], readings: Latest['readings']): void
  presence(device: Device, presence: 'online' | 'offline'): void
  /**
   * Cluster mode: a reading another node took (it follows the replicated log). Kept, not pushed:
   * the node that took it pushed it to every browser already.
   */
  remember(device: DeviceRef, ts: number, outcome: Latest['outcome'], readings: Latest['readings'], heardAt: number): void
  get(device: Device): DeviceState
  /** When this node last heard from the device (a reading, here or followed, or its connection), epoch ms. */
  heardAt(deviceId: string): number | null
}

/** What a log record says of its device. */
export interface DeviceRef {
  id: string
  type: string
  site: string
}

interface Entry {
  device: DeviceRef
  presence: DeviceState['presence']
  /** Whether this node saw the device connect or leave; if not, the registry's word (the caller's) is newer. */
  here: boolean
  lastSeen: number | null
  ts: number
  outcome: Latest['outcome']
  readings: Latest['readings'] | null
  /** When the last `device:state` went out; updates are coalesced to one a second per device. */
  pushedAt: number
  pushTimer: NodeJS.Timeout | null
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/**
 * Per-reading work here is a few field writes: strings are built only when the API
 * or a push asks for them, and pushes are coalesced per device.
 */
export function createLiveState(
  bus: LiveBus,
  o: {
    now?: () => number
    pushEveryMs?: number
    /**
     * Cluster mode: a device's connection may be on any node, and each node writes presence to the
     * shared registry (a device that moved keeps the newer word there), so the registry's is the one to show.
     */
    presenceFromStore?: boolean
  } = {},
): LiveState {
  const now = o.now ?? Date.now
  const pushEveryMs = o.pushEveryMs ?? 1_000
  const entries = new Map<string, Entry>()
  const entry = (d: Device | DeviceRef): Entry => {
    let e = entries.get(d.id)
    if (!e) {
      const known = 'presence' in d
      e = {
        device: { id: d.id, type: d.type, site: d.site },
        presence: known ? d.presence : 'unknown',
        here: false,
        lastSeen: known && d.lastSeen ? Date.parse(d.lastSeen) : null,
        ts: 0,
        outcome: 'accepted',
        readings: null,
        pushedAt: 0,
        pushTimer: null,
      }
      entries.set(d.id, e)
    }
    return e
  }
  const view = (e: Entry, d?: Device): DeviceState => {
    const stored = d?.lastSeen ? Date.parse(d.lastSeen) : null
    return {
      deviceId: e.device.id,
      type: e.device.type,
      site: e.device.site,
      presence: (e.here && !o.presenceFromStore) || !d ? e.presence : d.presence,
      lastSeen: iso(stored !== null && (e.lastSeen === null || stored > e.lastSeen) ? stored : e.lastSeen),
      latest: e.readings ? { ts: iso(e.ts)!, outcome: e.outcome, readings: e.readings } : null,
    }
  }
  const push = (e: Entry) => {
    if (e.pushTimer) return
    const wait = e.pushedAt + pushEveryMs - now()
    if (wait <= 0) {
      e.pushedAt = now()
      bus.emit('device:state', view(e))
      return
    }
    e.pushTimer = setTimeout(() => {
      e.pushTimer = null
      e.pushedAt = now()
      bus.emit('device:state', view(e))
    }, wait)
    e.pushTimer.unref()
  }
  return {
    reading(d, ts, outcome, readings) {
      const e = entry(d)
      e.lastSeen = now()
      // A late reading (replay, catch-up) must not overwrite a newer one.
      if (e.readings && e.ts > ts) return
      e.ts = ts
      e.outcome = outcome
      e.readings = readings
      push(e)
    },
    presence(d, presence) {
      const e = entry(d)
      e.presence = presence
      e.here = true
      e.lastSeen = now()
      push(e)
    },
    remember(d, ts, outcome, readings, heardAt) {
      const e = entry(d)
      if (e.lastSeen === null || heardAt > e.lastSeen) e.lastSeen = heardAt
      if (e.readings && e.ts > ts) return
      e.ts = ts
      e.outcome = outcome
      e.readings = readings
    },
    get: (d) => view(entry(d), d),
    heardAt: (id) => entries.get(id)?.lastSeen ?? null,
  }
}
