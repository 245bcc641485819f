import { connect } from 'nats'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { Alert } from '#devices'
import { type ClusterStack, clusterLoad, partitionsOf, readyOf, startClusterStack } from '../helpers/cluster-stack.ts'
import { type LoadDevice, provisionBins } from '../helpers/load.ts'
import { connectDevice, startService, telemetryTopic, waitFor } from '../helpers/service.ts'

// Issue 15, acceptance 2 and 3: a node, then NATS servers, killed with SIGKILL under 1,000 readings/s from 300 devices.
const PARTITIONS = 6
const RATE = 1_000
let stack: ClusterStack
let devices: LoadDevice[]
const T0 = Date.now() - 3_600_000

/** Every tenth device fills and is emptied over and over (bin-full raises and clears); the rest sit at 30 %. */
const fillOf = (k: number, n: number) => {
  if (k % 10 !== 0) return 0.3
  const c = n % 12
  return c >= 8 && c <= 10 ? 0.97 : c === 11 ? 0.2 : 0.3 + 0.05 * c
}
const reading = (k: number, n: number, base: number) => {
  const ts = base + n * 2_000 + k
  return { ts, body: JSON.stringify({ ts, readings: { fillingLevel: fillOf(k, n), temperature: 10, batteryPct: 80, tilted: false } }) }
}

const pointTimes = async (deviceId: string): Promise<number[]> => {
  const q = `SELECT "fillingLevel" FROM "bin" WHERE "device_id" = '${deviceId}'`
  const res = await fetch(`${stack.influxUrl}/query?${new URLSearchParams({ db: stack.db, q, epoch: 'ms' })}`, {
    signal: AbortSignal.timeout(10_000),
  })
  const body = (await res.json()) as { results: { series?: { values: [number, number][] }[] }[] }
  return (body.results[0]?.series?.[0]?.values ?? []).map((v) => v[0])
}

/**
 * Every load the file has run, kept from its start: a point at a time none of them sent would be
 * made up, and a test that fails half-way must not make the next one's points look made up.
 */
const loads: Map<string, number[]>[] = []
const sentOf = (id: string) => new Set(loads.flatMap((l) => l.get(id) ?? []))

/** Each step's time since the test began, printed, so a timeout says where it stood. */
const stepper = () => {
  const t0 = Date.now()
  return (what: string) => console.log(`node-death +${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`)
}

/** Every acknowledged reading is a point; no point is a time the device never sent. */
async function expectLanded(acked: Map<string, Set<number>>) {
  await waitFor(
    async () => {
      for (const d of devices) {
        const t = new Set(await pointTimes(d.id))
        if (![...(acked.get(d.id) ?? [])].every((x) => t.has(x))) return false
      }
      return true
    },
    30_000,
    500,
  ).catch(async (e) => {
    const missing: string[] = []
    const lost = new Set<string>()
    for (const d of devices) {
      const t = new Set(await pointTimes(d.id))
      const m = [...(acked.get(d.id) ?? [])].filter((x) => !t.has(x))
      for (const x of m) lost.add(`${d.id}|${x}`)
      if (m.length)
        missing.push(
          `${d.id}: ${m.length} of ${acked.get(d.id)!.size} (${m
            .slice(0, 3)
            .map((x) => x - T0)
            .join(', ')})`,
        )
    }
    const nc = await connect({ servers: stack.nats.url.split(','), token: stack.nats.token! })
    const js = nc.jetstream()
    const oc = await js.consumers.get('SP_LOG')
    const info = await (await nc.jetstreamManager()).streams.info('SP_LOG')
    const found: string[] = []
    const msgs = await oc.fetch({ max_messages: info.state.messages, expires: 5_000 })
    for await (const m of msgs) {
      const r = m.json<{ deviceId: string; ts: number }>()
      if (lost.has(`${r.deviceId}|${r.ts}`)) found.push(`${r.deviceId} seq ${m.seq} ${m.subject}`)
      if (m.info.pending === 0) break
    }
    const consumers: string[] = []
    for await (const c of (await nc.jetstreamManager()).consumers.list('SP_LOG'))
      consumers.push(`${c.name}:${c.ack_floor.stream_seq}/${c.num_pending}`)
    await nc.close()
    missing.unshift(`in stream: ${found.join(', ')}; stream ${info.state.messages} msgs; consumers ${consumers.join(' ')}`)
    // Each live node's word on its readers: stuck in a batch, failing, or idle and sure it is caught up.
    const readers: string[] = []
    for (const [name, n] of stack.nodes) {
      const checks = await readyOf(n.url)
        .then((r) => r.checks)
        .catch(() => null)
      for (const [k, c] of Object.entries(checks ?? {})) if (k.startsWith('reader:')) readers.push(`${name} ${k}=${c.detail ?? c.ok}`)
    }
    missing.unshift(`readers: ${readers.join('; ')}`)
    const b = stack.nodes.get('b')!
    const q = await (await fetch(`${b.url}/api/quarantine?limit=50`, { headers: { authorization: `Bearer ${stack.token}` } })).text()
    throw new Error(
      `${(e as Error).message}; acknowledged but not in InfluxDB: ${missing.length} devices: ${missing.slice(0, 10).join('; ')}; quarantine: ${q.slice(0, 3000)}`,
    )
  })
  for (const d of devices) {
    const want = acked.get(d.id) ?? new Set<number>()
    const sentSet = sentOf(d.id)
    const times = await waitFor(
      async () => {
        const t = await pointTimes(d.id)
        return [...want].every((x) => t.includes(x)) ? t : null
      },
      30_000,
      200,
    )
    expect(new Set(times).size).toBe(times.length)
    expect(times.filter((t) => !sentSet.has(t))).toEqual([])
  }
}

const owners = async (urls: string[]) => {
  const all = await Promise.all(urls.map((u) => partitionsOf(u).catch(() => [] as number[])))
  return all
}

beforeAll(async () => {
  stack = await startClusterStack({ partitions: PARTITIONS })
  await stack.spawn('a')
  await stack.spawn('b')
  await stack.spawn('c')
  const urls = [...stack.nodes.values()].map((n) => n.url)
  await waitFor(async () => (await owners(urls)).every((o) => o.length === 2), 20_000, 200)
  devices = await provisionBins(stack.nodes.get('b')!.url, stack.token, 300, 'kd', 'estate')
}, 180_000)

afterAll(async () => {
  await stack?.close()
}, 120_000)

describe('a cluster under load loses a node', () => {
  it('keeps every acknowledged reading, moves the dead node’s partitions within 10 s, and raises the same alerts as a run without the kill', async () => {
    const step = stepper()
    const nodes = [...stack.nodes.values()]
    const base = T0
    const load = await clusterLoad(nodes, devices, RATE, (k, n) => reading(k, n, base))
    loads.push(load.sentTs)
    step('load running')
    // A failure below must not leave 1,000 readings/s running into the next test.
    onTestFinished(async () => {
      await load.stop(0)
      await load.close()
    })
    await new Promise((r) => setTimeout(r, 5_000))
    const a = stack.nodes.get('a')!
    // Under this load on two shared cores one /ready can take longer than the helper's 3 s: ask again. Two
    // each at the start; a lease renewed late under this load may have moved since, which is no fault: the
    // kill comes while node a reads some.
    const heldByA = await waitFor(
      async () => {
        const held = await partitionsOf(a.url)
        return held.length ? held : null
      },
      15_000,
      200,
    )
    step(`node a holds ${heldByA.length} partitions`)
    expect(heldByA.length).toBeGreaterThan(0)
    a.child.kill('SIGKILL')
    const killedAt = Date.now()
    step('node a killed')
    const others = [stack.nodes.get('b')!.url, stack.nodes.get('c')!.url]
    let seen = ''
    await waitFor(
      async () => {
        const t = Date.now()
        const got = await Promise.all(others.map((u) => partitionsOf(u).catch((e: Error) => e.message)))
        seen = `${JSON.stringify(got)} in ${Date.now() - t} ms`
        return new Set(got.flatMap((g) => (typeof g === 'string' ? [] : g))).size === PARTITIONS
      },
      15_000,
      100,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; b and c last said ${seen}`)
    })
    const movedIn = Date.now() - killedAt
    step(`partitions moved in ${movedIn} ms`)
    expect(movedIn).toBeLessThan(10_000)
    await new Promise((r) => setTimeout(r, Math.max(0, 12_000 - (Date.now() - killedAt))))
    await load.stop()
    step(`load stopped: ${JSON.stringify(load.stats)}`)
    step(`devices closed (${await load.close()} ends unconfirmed)`)
    expect(load.stats.reconnects).toBeGreaterThan(0)
    expect(load.stats.acked).toBeGreaterThan(RATE * 10)
    await expectLanded(load.acked)
    step('every acknowledged reading landed')

    // The same readings, on one machine with no kill: the alert transitions must be the same.
    const b = stack.nodes.get('b')!
    const alertDevices = devices.filter((_, k) => k % 10 === 0)
    const alertsOf = async (url: string, token: string, id: string) => {
      const res = await fetch(`${url}/api/alerts?deviceId=${id}&limit=1000`, { headers: { authorization: `Bearer ${token}` } })
      return ((await res.json()) as Alert[]).map((x) => `${x.ruleId} ${x.raisedAt} ${x.clearedAt ?? '-'}`).sort()
    }
    const single = await startService({}, { influxUrl: stack.influxUrl })
    step('one machine started')
    try {
      for (const d of alertDevices) {
        const p = await single.provision({ id: d.id, type: 'bin', site: 'estate' })
        const client = await connectDevice(single.mqttUrl, p.id, p.secret)
        const q = `SELECT "fillingLevel" FROM "bin" WHERE "device_id" = '${d.id}'`
        const res = await fetch(`${stack.influxUrl}/query?${new URLSearchParams({ db: stack.db, q, epoch: 'ms' })}`)
        const body = (await res.json()) as { results: { series?: { values: [number, number][] }[] }[] }
        for (const [ts, fill] of body.results[0]?.series?.[0]?.values ?? [])
          await client.publishAsync(
            telemetryTopic(d),
            JSON.stringify({ ts, readings: { fillingLevel: fill, temperature: 10, batteryPct: 80, tilted: false } }),
            { qos: 1 },
          )
        await client.endAsync()
      }
      step('readings replayed on one machine')
      await waitFor(async () => (await readyOf(single.url)).checks['reader:alerts']?.detail?.startsWith('0 records'), 20_000, 100)
      let transitions = 0
      for (const d of alertDevices) {
        const want = await alertsOf(single.url, single.token, d.id)
        transitions += want.length
        const got = await alertsOf(b.url, stack.token, d.id)
        expect(got, d.id).toEqual(want)
      }
      expect(transitions).toBeGreaterThan(alertDevices.length)
    } finally {
      await single.close()
    }
  }, 240_000)

  it('keeps every acknowledged reading when NATS servers are killed; PUBACKs stop while no quorum is left, /ready says why, and they resume by themselves', async () => {
    // Node a back: three nodes again, two partitions each.
    const a = stack.nodes.get('a')!
    if (a.child.exitCode !== null || a.child.signalCode !== null) await stack.spawn('a')
    const nodes = [...stack.nodes.values()]
    await waitFor(async () => (await owners(nodes.map((n) => n.url))).every((o) => o.length === 2), 30_000, 200)
    const load = await clusterLoad(nodes, devices, RATE, (k, n) => reading(k, n, T0 + 1_000_000))
    loads.push(load.sentTs)
    onTestFinished(async () => {
      await load.stop(0)
      await load.close()
    })
    const acksAfter = async (what: string, more: number, ms: number) => {
      const from = load.stats.acked
      await waitFor(() => load.stats.acked >= from + more, ms, 50).catch(() => {
        throw new Error(`${what}: ${load.stats.acked - from} PUBACKs in ${ms} ms`)
      })
    }
    await acksAfter('before any kill', 2_000, 10_000)

    // One of three servers: the stream keeps its quorum; PUBACKs go on (after a leader election, if it led).
    await stack.nats.nodes[0]!.kill('SIGKILL')
    await acksAfter('with two of three servers', 2_000, 15_000)

    // A second one: no quorum. PUBACKs stop and every node's /ready says why.
    await stack.nats.nodes[1]!.kill('SIGKILL')
    const b = stack.nodes.get('b')!
    const why = await waitFor(
      async () => {
        const r = await readyOf(b.url)
        return r.status !== 'ok' && !r.checks.log?.ok ? r.checks.log!.detail! : null
      },
      15_000,
      100,
    )
    expect(why).toMatch(/NO_QUORUM/)
    await new Promise((r) => setTimeout(r, 1_000))
    const stalled = load.stats.acked
    await new Promise((r) => setTimeout(r, 2_000))
    expect(load.stats.acked - stalled).toBe(0)

    // Both back: PUBACKs resume by themselves, and /ready is ok again.
    await stack.nats.nodes[0]!.restart()
    await stack.nats.nodes[1]!.restart()
    await acksAfter('after the servers came back', 2_000, 30_000)
    await waitFor(async () => (await readyOf(b.url)).checks.log?.ok, 15_000, 200).catch(async (e) => {
      const all = await Promise.all(nodes.map(async (n) => `${n.name}: ${JSON.stringify((await readyOf(n.url)).checks)}`))
      throw new Error(`${(e as Error).message}: ${all.join('\n')}`)
    })
    await load.stop()
    await load.close()
    await expectLanded(load.acked)
  }, 240_000)
})
