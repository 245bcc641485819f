import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectPacket, rawClient } from '../helpers/raw-mqtt.ts'
import { startService, type TestService } from '../helpers/service.ts'
import { startTestBroker } from '../helpers/test-broker.ts'

// Loopback addresses stand for distinct clients: Linux routes all of 127.0.0.0/8 to lo,
// and binding the local end makes the broker see the connection come from there.

interface Attempt {
  code: number | null
  ms: number
}

describe('brakes on wrong MQTT secrets (issue 8, acceptance 4)', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startService({ MQTT_AUTH_BRAKE_AFTER: '5', MQTT_AUTH_BRAKE_MAX_MS: '10000' })
  })
  afterAll(() => svc?.close())

  const attempt = async (from: string, id: string, secret: string): Promise<Attempt> => {
    const c = await rawClient(svc.service.broker.port, { localAddress: from })
    const t = performance.now()
    c.send(connectPacket({ clientId: id, username: id, password: secret }))
    const code = await c.connack(25_000)
    const ms = Math.round(performance.now() - t)
    c.end()
    return { code, ms }
  }
  const metric = async (name: string, label: string, value: string) => {
    const m = new RegExp(`${name}\\{${label}="${value}"\\} (\\d+)`).exec(await (await svc.api('/metrics')).text())
    return m ? Number(m[1]) : 0
  }

  it('slows 1,000 wrong secrets from one address while the right secret from another address connects at once', async () => {
    const target = await svc.provision({ id: 'bin-target', type: 'bin', site: 'brake' })
    const other = await svc.provision({ id: 'bin-bystander', type: 'bin', site: 'brake' })

    // The attacker: 1,000 wrong secrets for one device, 50 connections at a time, from 127.0.0.1.
    const started = performance.now()
    const codes = new Map<number | null, number>()
    let sent = 0
    let attacking = true
    const attack = Promise.all(
      Array.from({ length: 50 }, async () => {
        while (sent < 1000) {
          sent++
          const { code } = await attempt('127.0.0.1', target.id, 'guess')
          codes.set(code, (codes.get(code) ?? 0) + 1)
        }
      }),
    ).then(() => {
      attacking = false
    })

    // Meanwhile the device itself, and another one, connect from other addresses.
    const good: Attempt[] = []
    while (attacking) {
      good.push(await attempt('127.0.0.2', target.id, target.secret))
      good.push(await attempt('127.0.0.3', other.id, other.secret))
      await new Promise((r) => setTimeout(r, 200))
    }
    await attack
    const seconds = (performance.now() - started) / 1000

    const checked = await metric('sp_mqtt_refused_total', 'reason', 'bad-credentials')
    const unchecked = await metric('sp_mqtt_refused_total', 'reason', 'auth-braked')
    console.log(
      `1,000 wrong secrets from one address: ${seconds.toFixed(1)} s; ${checked} secrets checked (CONNACK 4), ` +
        `${unchecked} refused unchecked (CONNACK 3); sp_mqtt_auth_braked_total refused=${await metric('sp_mqtt_auth_braked_total', 'action', 'refused')} ` +
        `delayed=${await metric('sp_mqtt_auth_braked_total', 'action', 'delayed')}; ` +
        `the right secret from other addresses: ${good.length} connects, slowest ${Math.max(...good.map((g) => g.ms))} ms`,
    )
    expect(codes.get(4)! + codes.get(3)!).toBe(1000)
    expect(checked).toBe(codes.get(4))
    expect(unchecked).toBe(codes.get(3))
    // Without the brake all 1,000 are checked in about a second; with it, a few dozen at most.
    expect(checked).toBeLessThan(60)
    expect(good.length).toBeGreaterThan(4)
    for (const g of good) {
      expect(g.code).toBe(0)
      expect(g.ms).toBeLessThan(1000)
    }
  })

  it('without the brake (MQTT_AUTH_BRAKE_MAX_MS=0), every one of 1,000 wrong secrets is checked at full speed', async () => {
    const tb = await startTestBroker({ authBrake: { freeFailures: 5, maxDelayMs: 0, forgetMs: 900_000 } })
    try {
      tb.addDevice('bin-open', 'right')
      const started = performance.now()
      let sent = 0
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (sent < 1000) {
            sent++
            const c = await rawClient(tb.broker.port)
            c.send(connectPacket({ clientId: 'bin-open', username: 'bin-open', password: 'guess' }))
            expect(await c.connack()).toBe(4)
            c.end()
          }
        }),
      )
      console.log(`brake off: 1,000 wrong secrets from one address in ${((performance.now() - started) / 1000).toFixed(1)} s, all checked`)
      expect(await tb.refused('bad-credentials')).toBe(1000)
    } finally {
      await tb.close()
    }
  })

  it('spaces the checks of one address further apart with each wrong secret', async () => {
    const d = await svc.provision({ id: 'bin-spaced', type: 'bin', site: 'brake' })
    const times: number[] = []
    for (let i = 0; i < 8; i++) {
      const a = await attempt('127.0.0.4', d.id, 'guess')
      expect(a.code).toBe(4)
      times.push(a.ms)
    }
    console.log(`8 wrong secrets in a row from one address: ${times.join(', ')} ms`)
    for (const ms of times.slice(0, 5)) expect(ms).toBeLessThan(200)
    expect(times[5]).toBeGreaterThanOrEqual(200) // 250 ms after the fifth failure
    expect(times[6]).toBeGreaterThanOrEqual(450) // then 500
    expect(times[7]).toBeGreaterThanOrEqual(900) // then 1,000
  })

  it('holds back the refusals of one claimed identity guessed from many addresses, never its acceptance', async () => {
    const d = await svc.provision({ id: 'bin-spread', type: 'bin', site: 'brake' })
    const times: number[] = []
    // One wrong secret from each of 8 addresses: no address reaches the per-address brake.
    for (let i = 1; i <= 8; i++) {
      const a = await attempt(`127.0.1.${i}`, d.id, 'guess')
      expect(a.code).toBe(4)
      times.push(a.ms)
    }
    const right = await attempt('127.0.1.20', d.id, d.secret)
    console.log(`one identity, 8 addresses: refusals after ${times.join(', ')} ms; the right secret after ${right.ms} ms`)
    for (const ms of times.slice(0, 5)) expect(ms).toBeLessThan(200)
    expect(times[5]).toBeGreaterThanOrEqual(200)
    expect(times[6]).toBeGreaterThanOrEqual(450)
    expect(times[7]).toBeGreaterThanOrEqual(900)
    expect(right.code).toBe(0)
    expect(right.ms).toBeLessThan(200)
  })

  it('lets a device that has connected from a braked address (a gateway behind NAT) through; a stranger waits or is refused', async () => {
    const known = await svc.provision({ id: 'bin-behind-gw', type: 'bin', site: 'brake' })
    const stranger = await svc.provision({ id: 'bin-new-at-gw', type: 'bin', site: 'brake' })
    const gw = '127.0.2.1'
    expect((await attempt(gw, known.id, known.secret)).code).toBe(0)
    // A misconfigured device behind the same gateway keeps failing.
    for (let i = 0; i < 7; i++) await attempt(gw, 'bin-misconfigured', 'stale')
    const again = await attempt(gw, known.id, known.secret)
    expect(again.code).toBe(0)
    expect(again.ms).toBeLessThan(200)
    const fresh = await attempt(gw, stranger.id, stranger.secret)
    expect(fresh.code === 3 || fresh.ms >= 200).toBe(true)
  })
})
