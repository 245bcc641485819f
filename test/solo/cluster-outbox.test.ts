import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, OutboundEvent } from '#devices'
import { freePort } from '../../scripts/free-port.ts'
import { type ClusterStack, caughtUp, clusterLoad, readyOf, startClusterStack } from '../helpers/cluster-stack.ts'
import { binReading, type LoadDevice, provisionBins } from '../helpers/load.ts'
import { connectDevice, telemetryTopic, waitFor } from '../helpers/service.ts'
import { receiver } from '../outbox/receiver.ts'

// Issue 15, acceptance 4: a webhook receiver sees each delivery exactly once, in order, while nodes stop and start.
let stack: ClusterStack
let devices: LoadDevice[]
let rx: ReturnType<typeof receiver>
let rport = 0
const T0 = Date.now() - 3_600_000

/** Each bin fills and is emptied over and over: bin-full raises and clears every 12 readings. */
const fillOf = (n: number) => {
  const c = n % 12
  return c >= 8 && c <= 10 ? 0.97 : c === 11 ? 0.2 : 0.3 + 0.05 * c
}

beforeAll(async () => {
  stack = await startClusterStack({
    env: { WEBHOOK_ALLOW_HOSTS: '127.0.0.1', OUTBOX_BACKOFF_FIRST_MS: '200', OUTBOX_BACKOFF_MAX_MS: '1000' },
  })
  for (const name of ['a', 'b', 'c']) await stack.spawn(name)
  rport = await freePort()
  rx = receiver(rport, 5_000)
  await rx.set('up')
  devices = await provisionBins(stack.nodes.get('a')!.url, stack.token, 30, 'ob', 'estate')
}, 120_000)

afterAll(async () => {
  await rx?.close()
  await stack?.close()
}, 120_000)

const holder = async () => {
  for (const n of stack.nodes.values()) {
    if (n.child.exitCode !== null || n.child.signalCode !== null) continue
    const r = await readyOf(n.url).catch(() => null)
    if (r?.checks.outbox?.detail === 'runs on this node') return n
  }
  return null
}

describe('the outbox across nodes', () => {
  it('delivers each event once and in order while the node running it stops and another takes over', async () => {
    const a = stack.nodes.get('a')!
    const sub = await fetch(`${a.url}/api/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `http://127.0.0.1:${rport}/hook`, eventTypes: ['alert.raised', 'alert.cleared'], ruleIds: ['bin-full'] }),
    })
    expect(sub.status).toBe(201)
    rx.setSecrets(((await sub.json()) as { secret: string }).secret)

    const nodes = [...stack.nodes.values()]
    const load = await clusterLoad(nodes, devices, 60, (_k, n) => {
      const ts = T0 + n * 1_000
      return { ts, body: JSON.stringify({ ts, readings: { fillingLevel: fillOf(n), temperature: 10, batteryPct: 80, tilted: false } }) }
    })
    // Twice: the node running the outbox stops (SIGTERM) while events flow, and comes back.
    for (let round = 0; round < 2; round++) {
      await waitFor(() => rx.requests.length >= (round + 1) * 20, 30_000, 100)
      const running = await waitFor(holder, 20_000, 200)
      running.child.kill('SIGTERM')
      expect(await running.exited).toBe(0)
      const next = await waitFor(holder, 20_000, 200)
      expect(next.name).not.toBe(running.name)
      await stack.spawn(running.name)
    }
    await load.stop()
    await load.close()

    // Every transition the cluster stored is delivered once, and per bin in the order it happened.
    const list = async () =>
      (await (
        await fetch(`${a.url}/api/alerts?limit=1000&ruleId=bin-full`, { headers: { authorization: `Bearer ${stack.token}` } })
      ).json()) as Alert[]
    // The readers finish the last readings first (twice in a row, so a partition moving between checks is seen).
    const settled = async () => {
      if (!(await caughtUp(stack, 6))) return false
      await new Promise((r) => setTimeout(r, 1_000))
      return caughtUp(stack, 6)
    }
    await waitFor(settled, 30_000, 200)
    const alerts = await list()
    const expected = alerts.length + alerts.filter((x) => x.clearedAt !== null).length
    expect(expected).toBeGreaterThan(40)
    await waitFor(() => rx.requests.length >= expected, 30_000, 200)
    await new Promise((r) => setTimeout(r, 1_000))
    const perBin = new Map<string, string[]>()
    for (const r of rx.requests) {
      const e = JSON.parse(r.body) as OutboundEvent
      const d = e.data as { deviceId: string; alertId: string }
      const list = perBin.get(d.deviceId) ?? []
      list.push(`${e.type} ${d.alertId}`)
      perBin.set(d.deviceId, list)
    }
    for (const [deviceId, got] of perBin) {
      const want = alerts
        .filter((x) => x.deviceId === deviceId)
        .sort((x, y) => Date.parse(x.raisedAt) - Date.parse(y.raisedAt))
        .flatMap((x) => [`alert.raised ${x.id}`, ...(x.clearedAt ? [`alert.cleared ${x.id}`] : [])])
      expect(got, deviceId).toEqual(want)
    }
    const ids = rx.requests.map((r) => r.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids).toHaveLength(expected)
    expect(rx.requests.every((r) => r.verified)).toBe(true)
  }, 240_000)
  it('sends nothing twice when the node running the outbox is paused past its lease while a delivery is in flight', async () => {
    const a = [...stack.nodes.values()].find((n) => n.child.exitCode === null && n.child.signalCode === null)!
    const port2 = await freePort()
    const rx2 = receiver(port2, 5_000)
    // Every request is answered only when the test says so: the first delivery stays in flight.
    await rx2.set('hold')
    try {
      const sub = await fetch(`${a.url}/api/webhooks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `http://127.0.0.1:${port2}/hook`, eventTypes: ['alert.raised'], ruleIds: ['bin-full'] }),
      })
      expect(sub.status).toBe(201)
      rx2.setSecrets(((await sub.json()) as { secret: string }).secret)
      const [bin] = await provisionBins(a.url, stack.token, 1, 'paused', 'estate')
      const running = await waitFor(holder, 20_000, 200)
      const other = [...stack.nodes.values()].find((n) => n !== running && n.child.exitCode === null)!
      const device = await connectDevice(`mqtt://127.0.0.1:${other.mqttPort}`, bin!.id, bin!.secret)
      let n = 0
      const publish = async (fill: number) => {
        const ts = Date.now() - 600_000 + n++ * 1_000
        await device.publishAsync(telemetryTopic(bin!), binReading(ts, fill), { qos: 1 })
      }
      for (let i = 0; i < 3; i++) await publish(0.97)
      const first = await waitFor(() => rx2.requests[0], 30_000, 100)

      // The node running the outbox waits for the receiver's answer: it is paused (SIGSTOP) past its
      // lease, another node takes the outbox over, and finds that delivery pending.
      running.child.kill('SIGSTOP')
      const holderBesides = async () => {
        for (const n of stack.nodes.values()) {
          if (n === running || n.child.exitCode !== null || n.child.signalCode !== null) continue
          const r = await readyOf(n.url).catch(() => null)
          if (r?.checks.outbox?.detail === 'runs on this node') return n
        }
        return null
      }
      try {
        await waitFor(holderBesides, 20_000, 200)
        // Time for the new holder to send it again, were the paused node's attempt not fencing it off.
        await new Promise((r) => setTimeout(r, 3_000))
        expect(rx2.requests.map((r) => r.id)).toEqual([first.id])
        // The receiver answers; the paused node wakes, stores the outcome and lets the outbox go.
        await rx2.set('up')
      } finally {
        running.child.kill('SIGCONT')
      }
      // The next alert is delivered, by whichever node runs the outbox now, and the first is not sent again.
      for (let i = 0; i < 2; i++) await publish(0.2)
      for (let i = 0; i < 3; i++) await publish(0.97)
      await waitFor(() => rx2.requests.length >= 2, 40_000, 200)
      await new Promise((r) => setTimeout(r, 2_000))
      const ids = rx2.requests.map((r) => r.id)
      expect(ids).toHaveLength(2)
      expect(ids[0]).toBe(first.id)
      expect(new Set(ids).size).toBe(2)
      expect(rx2.requests.every((r) => r.verified)).toBe(true)
      await device.endAsync()
    } finally {
      await rx2.close()
    }
  }, 120_000)
})
