import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { Device, DeviceState } from '#devices'
import { createLiveState } from '../../ingest/live-state.ts'
import { createLiveBus } from '../../service/live-bus.ts'

const silent = pino({ level: 'silent' })
const T = Date.UTC(2026, 11, 2, 8)
const device = (over: Partial<Device> = {}): Device => ({
  id: 'bin-1',
  type: 'bin',
  name: 'Bin 1',
  site: 'mill-road',
  latitude: null,
  longitude: null,
  uprn: null,
  intervalS: 1200,
  createdAt: new Date(T - 86_400_000).toISOString(),
  presence: 'offline',
  lastSeen: null,
  ...over,
})

function setup(presenceFromStore = false) {
  const bus = createLiveBus(silent)
  const pushed: DeviceState[] = []
  bus.on('device:state', (s) => pushed.push(s))
  let now = T
  const live = createLiveState(bus, { now: () => now, pushEveryMs: 0, presenceFromStore })
  return { live, pushed, tick: (ms: number) => (now += ms) }
}

describe('live state', () => {
  it("keeps another node's readings without pushing them, and never lets an older one replace a newer", () => {
    const { live, pushed } = setup(true)
    live.remember({ id: 'bin-1', type: 'bin', site: 'mill-road' }, T - 1_000, 'accepted', { fillingLevel: 0.7 }, T - 500)
    expect(pushed).toEqual([])
    const seen = live.get(device())
    expect(seen.latest).toEqual({ ts: new Date(T - 1_000).toISOString(), outcome: 'accepted', readings: { fillingLevel: 0.7 } })
    expect(seen.lastSeen).toBe(new Date(T - 500).toISOString())
    live.remember({ id: 'bin-1', type: 'bin', site: 'mill-road' }, T - 5_000, 'suspicious', { fillingLevel: 0.2 }, T - 400)
    expect(live.get(device()).latest?.readings).toEqual({ fillingLevel: 0.7 })
    // A reading taken here is pushed as before.
    live.reading(device(), T, 'accepted', { fillingLevel: 0.72 })
    expect(pushed.map((s) => s.latest?.readings)).toEqual([{ fillingLevel: 0.72 }])
  })

  it("shows the registry's presence in cluster mode, and this node's own word on one machine", () => {
    const single = setup(false)
    single.live.presence(device(), 'online')
    // The registry may lag behind this process's connection by a write.
    expect(single.live.get(device({ presence: 'offline' })).presence).toBe('online')

    const cluster = setup(true)
    cluster.live.presence(device(), 'offline')
    // The device moved to another node, which marked it online in the shared registry.
    const moved = cluster.live.get(device({ presence: 'online', lastSeen: new Date(T + 2_000).toISOString() }))
    expect(moved.presence).toBe('online')
    expect(moved.lastSeen).toBe(new Date(T + 2_000).toISOString())
    // A device this node never heard of: the registry's word on both.
    expect(single.live.get(device({ id: 'bin-2', presence: 'online' })).presence).toBe('online')
  })
})
