import { io } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { Alert } from '#devices'
import { connectDevice, startService, type TestService, telemetryTopic } from '../helpers/service.ts'

describe('a dashboard that stops reading does not slow anyone else (issue 3, slow consumers)', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startService({ SOCKETIO_PING_INTERVAL_MS: '500', SOCKETIO_PING_TIMEOUT_MS: '500', MQTT_DEVICE_RATE: '0' })
  })
  afterAll(() => svc?.close())

  it('keeps ingest and other clients at full speed and drops the frozen client', { timeout: 30_000 }, async () => {
    // A real Socket.IO session over a raw WebSocket, so we can stop reading its socket.
    const frozen = new WebSocket(`${svc.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`)
    await new Promise<void>((resolve, reject) => {
      frozen.on('message', (m) => {
        const s = m.toString()
        if (s.startsWith('0')) frozen.send(`40${JSON.stringify({ token: svc.token })}`)
        if (s.startsWith('40')) resolve()
      })
      frozen.once('error', reject)
    })
    let frozenClosed = false
    frozen.once('close', () => {
      frozenClosed = true
    })
    ;(frozen as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause()

    const healthy = io(svc.url, { auth: { token: svc.token }, transports: ['websocket'] })
    const received: number[] = []
    const sentAt = new Map<number, number>()
    healthy.on('alert:raised', (a: Alert) => received.push(performance.now() - sentAt.get(Date.parse(a.raisedAt))!))
    await new Promise<void>((r) => healthy.once('connect', () => r()))

    // Tilted, tilted, upright, again and again: every third reading raises bin-knocked-over (the next clears it),
    // a steady stream of events for both clients.
    const bin = await svc.provision({ id: 'bin-slow', type: 'bin', site: 'slow' })
    const device = await connectDevice(svc.mqttUrl, bin.id, bin.secret)
    const acks: number[] = []
    let ts = Date.now() - 60_000
    for (let i = 0; i < 600; i++) {
      ts++
      const t = performance.now()
      if (i % 3 === 1) sentAt.set(ts, t)
      const body = JSON.stringify({
        ts,
        readings: { fillingLevel: 0.3, temperature: 10, batteryPct: 90, tilted: i % 3 !== 2 },
      })
      await device.publishAsync(telemetryTopic(bin), body, { qos: 1 })
      acks.push(performance.now() - t)
    }
    await new Promise((r) => setTimeout(r, 1_500))

    expect(received).toHaveLength(200)
    const sorted = [...received].sort((a, b) => a - b)
    expect(sorted[Math.floor(0.99 * sorted.length)]!).toBeLessThan(250)
    const ackSorted = [...acks].sort((a, b) => a - b)
    expect(ackSorted[Math.floor(0.99 * ackSorted.length)]!).toBeLessThan(100)

    // The frozen client missed its pongs and was disconnected by the server.
    ;(frozen as unknown as { _socket: { resume(): void } })._socket.resume()
    await new Promise((r) => setTimeout(r, 500))
    expect(frozenClosed).toBe(true)
    healthy.close()
    await device.endAsync()
  })
})
