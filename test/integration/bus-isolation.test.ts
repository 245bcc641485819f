import { pino } from 'pino'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, DeviceState } from '#devices'
import { createLiveBus } from '../../service/live-bus.ts'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

const silent = pino({ level: 'silent' })

const alert = (id: string): Alert => ({
  id,
  deviceId: 'bin-1',
  deviceType: 'bin',
  site: 'street',
  ruleId: 'bin-fire',
  title: 'Possible bin fire',
  severity: 'critical',
  status: 'active',
  value: 75,
  text: null,
  detail: null,
  raisedAt: '2026-01-01T00:00:00.000Z',
  acknowledgedAt: null,
  acknowledgedBy: null,
  acknowledgedComment: null,
  assignedTo: null,
  snoozedUntil: null,
  resolvedAt: null,
  resolvedBy: null,
  resolvedNote: null,
  clearedAt: null,
  incidentId: null,
})

describe('live bus: a listener that throws stops neither the emitter nor another listener (unit)', () => {
  it('calls the listener after a throwing one, counts the error and does not throw into the emitter', () => {
    const errors: string[] = []
    const bus = createLiveBus(silent, (event) => errors.push(event))
    const got: string[] = []
    bus.on('alert:raised', () => {
      throw new Error('listener bug')
    })
    bus.on('alert:raised', (a) => got.push(a.id))
    expect(() => bus.emit('alert:raised', alert('a1'))).not.toThrow()
    expect(() => bus.emit('alert:raised', alert('a2'))).not.toThrow()
    expect(got).toEqual(['a1', 'a2'])
    expect(errors).toEqual(['alert:raised', 'alert:raised'])
  })

  it('survives a listener that throws something that is not an Error', () => {
    const errors: string[] = []
    const bus = createLiveBus(silent, (event) => errors.push(event))
    const got: string[] = []
    bus.on('alert:cleared', () => {
      throw null
    })
    bus.on('alert:cleared', () => {
      throw 'a string'
    })
    bus.on('alert:cleared', (a) => got.push(a.id))
    expect(() => bus.emit('alert:cleared', alert('c1'))).not.toThrow()
    expect(got).toEqual(['c1'])
    expect(errors).toEqual(['alert:cleared', 'alert:cleared'])
  })

  it('counts nothing when no listener throws, and emitting an event nobody listens to is a no-op', () => {
    const errors: string[] = []
    const bus = createLiveBus(silent, (event) => errors.push(event))
    const got: string[] = []
    bus.on('alert:raised', (a) => got.push(a.id))
    bus.emit('alert:raised', alert('x'))
    expect(() => bus.emit('alert:acknowledged', alert('y'))).not.toThrow()
    expect(got).toEqual(['x'])
    expect(errors).toEqual([])
  })

  it('removeOwner removes only that owner’s listeners, on every event; unsubscribe removes only its own', () => {
    const bus = createLiveBus(silent)
    const calls: string[] = []
    bus.on('alert:raised', () => calls.push('a:raised'), 'a')
    bus.on('alert:cleared', () => calls.push('a:cleared'), 'a')
    bus.on('alert:raised', () => calls.push('b:raised'), 'b')
    bus.on('alert:raised', () => calls.push('anon:raised'))
    const off = bus.on('alert:cleared', () => calls.push('b:cleared'), 'b')

    bus.removeOwner('a')
    bus.emit('alert:raised', alert('1'))
    bus.emit('alert:cleared', alert('2'))
    expect(calls).toEqual(['b:raised', 'anon:raised', 'b:cleared'])

    calls.length = 0
    off()
    bus.emit('alert:raised', alert('3'))
    bus.emit('alert:cleared', alert('4'))
    expect(calls).toEqual(['b:raised', 'anon:raised'])

    calls.length = 0
    bus.removeOwner('nobody')
    bus.removeOwner('b')
    bus.emit('alert:raised', alert('5'))
    expect(calls).toEqual(['anon:raised'])
  })

  it('a listener removed or added during an emit does not disturb that emit', () => {
    const bus = createLiveBus(silent)
    const calls: string[] = []
    let offSecond = () => {}
    bus.on('alert:raised', () => {
      calls.push('first')
      offSecond()
      bus.on('alert:raised', () => calls.push('late'))
    })
    offSecond = bus.on('alert:raised', () => calls.push('second'))
    bus.emit('alert:raised', alert('1'))
    expect(calls).toEqual(['first', 'second'])
    calls.length = 0
    bus.emit('alert:raised', alert('2'))
    // The second is gone now; "late" was added once per emit of the first.
    expect(calls).toEqual(['first', 'late'])
  })
})

describe('live bus in the service: a throwing listener stops neither a PUBACK nor Socket.IO (integration)', () => {
  let svc: TestService
  let socket: Socket
  const socketEvents: { name: 'alert:raised' | 'alert:cleared'; alert: Alert }[] = []

  beforeAll(async () => {
    svc = await startService()
    socket = io(svc.url, { auth: { token: svc.token }, transports: ['websocket'] })
    for (const name of ['alert:raised', 'alert:cleared'] as const) socket.on(name, (a: Alert) => socketEvents.push({ name, alert: a }))
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('connect_error', reject)
    })
  })
  afterAll(async () => {
    socket?.close()
    await svc?.close()
  })

  const busErrors = async (event: string) => {
    const text = await (await svc.api('/metrics')).text()
    const m = new RegExp(`^sp_bus_listener_errors_total\\{event="${event}"\\} (\\d+)$`, 'm').exec(text)
    return m ? Number(m[1]) : 0
  }

  it('every PUBACK arrives, alerts are stored and pushed, the reader carries on, and the errors are counted', async () => {
    const d = await svc.provision({ id: 'bin-bus', type: 'bin', site: 'bus' })
    const raisedBefore = await busErrors('alert:raised')
    const stateBefore = await busErrors('device:state')

    // Throwing listeners on the alert path (log reader → bus) and on the PUBACK path (ingest → live state → bus).
    const bus = svc.service.bus
    const offs = [
      bus.on('alert:raised', () => {
        throw new Error('dashboard plugin bug')
      }),
      bus.on('device:state', () => {
        throw new Error('state plugin bug')
      }),
    ]
    const after: Alert[] = []
    const states: DeviceState[] = []
    offs.push(bus.on('alert:raised', (a) => after.push(a)))
    offs.push(bus.on('device:state', (s) => states.push(s)))

    try {
      const c = await connectDevice(svc.mqttUrl, d.id, d.secret)
      const t0 = Date.now() - 60_000
      const temps = [75, 10, 10, 80]
      const acks: unknown[] = []
      for (const [i, temperature] of temps.entries()) {
        const payload = JSON.stringify({ ts: t0 + i * 1000, readings: { fillingLevel: 0.3, temperature, batteryPct: 80, tilted: false } })
        // publishAsync resolves only on the PUBACK of a QoS 1 message.
        acks.push(await c.publishAsync(telemetryTopic(d), payload, { qos: 1 }))
      }
      await c.endAsync()
      expect(acks).toHaveLength(temps.length)
      for (const p of acks) expect(p).toMatchObject({ cmd: 'publish', qos: 1 })

      // Two fires raised, the first cleared in between: the engine kept reading after the first throw.
      const mine = (name: string) => socketEvents.filter((e) => e.name === name && e.alert.deviceId === d.id)
      await waitFor(() => mine('alert:raised').length >= 2 && mine('alert:cleared').length >= 1, 5_000)
      expect(mine('alert:raised').map((e) => e.alert.value)).toEqual([75, 80])
      expect(mine('alert:cleared').map((e) => e.alert.value)).toEqual([75])
      expect(after.filter((a) => a.deviceId === d.id).map((a) => a.raisedAt)).toEqual([
        new Date(t0).toISOString(),
        new Date(t0 + 3000).toISOString(),
      ])
      expect(states.some((s) => s.deviceId === d.id)).toBe(true)

      const stored = (await (await svc.api(`/api/alerts?deviceId=${d.id}`)).json()) as Alert[]
      expect(stored.map((a) => [a.ruleId, a.status, a.raisedAt]).sort()).toEqual(
        [
          ['bin-fire', 'active', new Date(t0 + 3000).toISOString()],
          ['bin-fire', 'cleared', new Date(t0).toISOString()],
        ].sort(),
      )
      await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${d.id}'`)) === temps.length, 5_000)

      expect(await busErrors('alert:raised')).toBe(raisedBefore + 2)
      expect(await busErrors('device:state')).toBeGreaterThan(stateBefore)

      const ready = (await (await fetch(`${svc.url}/ready`)).json()) as { checks: Record<string, { ok: boolean; detail?: string }> }
      expect(ready.checks['reader:alerts']).toMatchObject({ ok: true })
      expect(ready.checks['reader:alerts']?.detail).toMatch(/^0 records/)
    } finally {
      for (const off of offs) off()
    }
  })
})
