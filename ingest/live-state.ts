import type { Device, DeviceState, LiveBus } from '#devices'

type Latest = NonNullable<DeviceState['latest']>

/** Latest reading and presence per device, kept in memory for the dashboard and API. */
export interface LiveState {
  reading(device: Device, ts: number, outcome: Latest['outcome'], readings: Latest['readings']): void
  presence(device: Device, presence: 'online' | 'offline'): void
  get(device: Device): DeviceState
}

export function createLiveState(bus: LiveBus, now: () => number = Date.now): LiveState {
  const states = new Map<string, DeviceState>()
  const get = (d: Device): DeviceState => {
    let s = states.get(d.id)
    if (!s) {
      s = { deviceId: d.id, type: d.type, site: d.site, presence: d.presence, lastSeen: d.lastSeen, latest: null }
      states.set(d.id, s)
    }
    return s
  }
  return {
    reading(d, ts, outcome, readings) {
      const s = get(d)
      // A late reading (replay, catch-up) must not overwrite a newer one.
      if (s.latest && Date.parse(s.latest.ts) > ts) return
      s.latest = { ts: new Date(ts).toISOString(), outcome, readings }
      s.lastSeen = new Date(now()).toISOString()
      bus.emit('device:state', s)
    },
    presence(d, presence) {
      const s = get(d)
      s.presence = presence
      s.lastSeen = new Date(now()).toISOString()
      bus.emit('device:state', s)
    },
    get,
  }
}
