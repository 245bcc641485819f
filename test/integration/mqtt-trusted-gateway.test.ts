import { afterEach, describe, expect, it } from 'vitest'
import { type RawClient, rawClient } from '../helpers/raw-mqtt.ts'
import { startTestBroker, type TestBroker } from '../helpers/test-broker.ts'

describe('per-address connection cap and trusted gateways (MQTT_TRUSTED_ADDRESSES)', () => {
  let broker: TestBroker | null = null
  const clients: RawClient[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end()
    await broker?.close()
    broker = null
  })

  const open = async (n: number, localAddress: string) => {
    const out: RawClient[] = []
    for (let i = 0; i < n; i++) out.push(await rawClient(broker!.broker.port, { localAddress }))
    clients.push(...out)
    return out
  }

  it('closes a connection over the cap from an ordinary address, at once', async () => {
    broker = await startTestBroker({ maxConnectionsPerAddress: 2 })
    const [a, b, c] = await open(3, '127.0.0.5')
    expect(await c!.closedWithin(1_000)).toBe(true)
    expect(await a!.closedWithin(200)).toBe(false)
    expect(await b!.closedWithin(200)).toBe(false)
  })

  it('lets a trusted gateway open more, while other addresses keep the cap', async () => {
    broker = await startTestBroker({ maxConnectionsPerAddress: 2, trustedAddresses: new Set(['127.0.0.6']) })
    const gateway = await open(5, '127.0.0.6')
    for (const c of gateway) expect(await c.closedWithin(200)).toBe(false)
    const other = await open(3, '127.0.0.7')
    expect(await other[2]!.closedWithin(1_000)).toBe(true)
  })
})
