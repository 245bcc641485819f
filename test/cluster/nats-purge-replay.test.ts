import { execFileSync } from 'node:child_process'
import { connect, type NatsConnection } from 'nats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { purgeSafeOn } from '../../cluster/purge-gate.ts'
import { findBinary, type NatsCluster, startNatsCluster } from '../../scripts/cluster-engines.ts'

// Why the stream purge is off on old NATS servers (cluster/purge-gate.ts), shown on the one this machine
// has. A replica killed and started again replays the purge of one subject from its log; before 2.9.18
// (nats-server#4196) it then deletes every record up to the purge, of every subject: here the ten
// acknowledged records of the subject nobody purged. Newer servers keep them.
describe('a purge of one subject, replayed by a restarted NATS server', () => {
  let nats: NatsCluster
  let nc: NatsConnection
  const version = /v?(\d+\.\d+\.\d+)/.exec(execFileSync(findBinary('nats-server'), ['--version'], { encoding: 'utf8' }))![1]!

  beforeAll(async () => {
    nats = await startNatsCluster()
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 })
  })
  afterAll(async () => {
    await nc?.close()
    await nats?.stop()
  })

  it(`keeps the other subject's records on that server exactly when the gate calls ${version} safe`, async () => {
    const jsm = await nc.jetstreamManager({ timeout: 5_000 })
    // Three replicas can be placed once every server has joined JetStream's meta group.
    for (const until = Date.now() + 30_000; ; ) {
      const made = await jsm.streams.add({ name: 'PURGED', subjects: ['purged.>'], num_replicas: 3 }).catch((e: Error) => e)
      if (!(made instanceof Error)) break
      if (Date.now() > until) throw made
      await new Promise((r) => setTimeout(r, 500))
    }
    const js = nc.jetstream()
    for (let i = 0; i < 10; i++) {
      await js.publish('purged.a', new TextEncoder().encode(`a${i}`))
      await js.publish('purged.b', new TextEncoder().encode(`b${i}`))
    }
    await jsm.streams.purge('PURGED', { filter: 'purged.a' })
    // Records go on coming after a purge, as readings do.
    for (let i = 10; i < 15; i++) await js.publish('purged.b', new TextEncoder().encode(`b${i}`))
    expect((await jsm.streams.info('PURGED')).state.messages).toBe(15)
    const leader = (await jsm.streams.info('PURGED')).cluster?.leader
    const victim = nats.nodes.find((n) => n.name !== leader)!
    await victim.kill('SIGKILL')
    await victim.restart()
    // It leads the stream, so what it recovered is what the stream says it holds.
    const deadline = Date.now() + 60_000
    for (;;) {
      const info = await jsm.streams.info('PURGED').catch(() => null)
      const current = info?.cluster?.replicas?.every((r) => r.current) ?? false
      if (info?.cluster?.leader === victim.name && current) break
      if (Date.now() > deadline) throw new Error(`${victim.name} did not come to lead the stream`)
      if (current && info?.cluster?.leader)
        await nc.request('$JS.API.STREAM.LEADER.STEPDOWN.PURGED', undefined, { timeout: 5_000 }).catch(() => null)
      await new Promise((r) => setTimeout(r, 1_000))
    }
    // Ten of b before the purge and five after on a safe server; only the five after on an unsafe one.
    const kept = (await jsm.streams.info('PURGED')).state.messages
    expect({ version, kept }).toEqual({ version, kept: purgeSafeOn(version) ? 15 : 5 })
  }, 120_000)
})
