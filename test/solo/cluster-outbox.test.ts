import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, OutboundEvent } from '#devices'
import { freePort } from '../../scripts/free-port.ts'
import { type ClusterStack, caughtUp, clusterLoad, readyOf, startClusterStack } from '../helpers/cluster-stack.ts'
import { type LoadDevice, provisionBins } from '../helpers/load.ts'
import { waitFor } from '../helpers/service.ts'
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
})
