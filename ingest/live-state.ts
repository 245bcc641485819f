import type { Device, DeviceState, LiveBus } from '#devices'

type Latest = NonNullable<DeviceState['latest']>

/** Latest reading and presence per device, kept in memory for the dashboard and API. */
export interface LiveState {
  reading(device: Device, ts: number, outcome: Latest['outcome'], readings: Latest['readings']): void
  presence(device: Device, presence: 'online' | 'offline'): void
  get(device: Device): DeviceState
}

interface Entry {
  device: Device
  presence: DeviceState['presence']
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
export function createLiveState(bus: LiveBus, now: () => number = Date.now, pushEveryMs = 1_000): LiveState {
  const entries = new Map<string, Entry>()
  const entry = (d: Device): Entry => {
    let e = entries.get(d.id)
    if (!e) {
      e = {
        device: d,
        presence: d.presence,
        lastSeen: d.lastSeen ? Date.parse(d.lastSeen) : null,
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
  const view = (e: Entry): DeviceState => ({
    deviceId: e.device.id,
    type: e.device.type,
    site: e.device.site,
    presence: e.presence,
    lastSeen: iso(e.lastSeen),
    latest: e.readings ? { ts: iso(e.ts)!, outcome: e.outcome, readings: e.readings } : null,
  })
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
      e.lastSeen = now()
      push(e)
    },
    get: (d) => view(entry(d)),
  }
}
