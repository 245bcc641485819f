import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

const reading = JSON.stringify({ readings: { fillingLevel: 0.2, temperature: 10, batteryPct: 90, tilted: false } })

describe('devices are confined to their own topics (acceptance 2)', () => {
  let svc: TestService
  let a: { id: string; secret: string; site: string; type: string }
  let b: { id: string; secret: string; site: string; type: string }

  beforeAll(async () => {
    svc = await startService()
    a = await svc.provision({ id: 'bin-a', type: 'bin', site: 'north' })
    b = await svc.provision({ id: 'bin-b', type: 'bin', site: 'north' })
  })
  afterAll(() => svc?.close())

  it('refuses a publish on another device topic and closes that connection', async () => {
    const client = await connectDevice(svc.mqttUrl, b.id, b.secret)
    const closed = new Promise<void>((r) => client.once('close', () => r()))
    client.publish(telemetryTopic(a), reading, { qos: 1 })
    await closed
    client.end(true)
    expect(await svc.service.registry.quarantine.count()).toBe(0)
    const latest = (await (await svc.api('/api/devices/bin-a')).json()) as { state: { latest: unknown } }
    expect(latest.state.latest).toBeNull()
  })

  it('refuses subscriptions to # and to another device topics, allows its own cmd topic', async () => {
    const client = await connectDevice(svc.mqttUrl, b.id, b.secret)
    for (const filter of ['#', `sp/v1/north/bin/${a.id}/#`, `sp/v1/north/bin/${a.id}/cmd`, 'sp/v1/+/+/+/telemetry']) {
      await expect(client.subscribeAsync(filter, { qos: 1 })).rejects.toMatchObject({ packet: { granted: [128] } })
    }
    const own = await client.subscribeAsync(`sp/v1/north/bin/${b.id}/cmd`, { qos: 1 })
    expect(own.map((g) => g.qos)).toEqual([1])
    await client.endAsync()
  })

  it('refuses a wrong secret, an anonymous client, a client id that is not the username and a revoked device', async () => {
    await expect(connectDevice(svc.mqttUrl, a.id, 'not-the-secret')).rejects.toThrow(/Bad username or password/i)
    await expect(connectDevice(svc.mqttUrl, 'anyone', undefined, { username: undefined })).rejects.toThrow(/Bad username or password/i)
    await expect(connectDevice(svc.mqttUrl, 'other-id', a.secret, { username: a.id })).rejects.toThrow(/Bad username or password/i)

    const c = await svc.provision({ id: 'bin-c', type: 'bin', site: 'north' })
    const client = await connectDevice(svc.mqttUrl, c.id, c.secret)
    const closed = new Promise<void>((r) => client.once('close', () => r()))
    expect((await svc.api('/api/devices/bin-c', { method: 'DELETE' })).status).toBe(204)
    await closed // revocation disconnects at once
    client.end(true)
    await expect(connectDevice(svc.mqttUrl, c.id, c.secret)).rejects.toThrow(/Bad username or password/i)
    // a revoked id stays reserved
    expect(
      (await svc.api('/api/devices', { method: 'POST', body: JSON.stringify({ id: 'bin-c', type: 'bin', name: 'x', site: 'north' }) }))
        .status,
    ).toBe(409)
  })

  it('refuses a Last Will on another device topic', async () => {
    await expect(
      connectDevice(svc.mqttUrl, b.id, b.secret, {
        will: { topic: `sp/v1/north/bin/${a.id}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
      }),
    ).rejects.toThrow(/Bad username or password/i)
  })

  it('counts every refusal by reason in /metrics', async () => {
    const metrics = await waitFor(async () => {
      const text = await (await svc.api('/metrics')).text()
      return text.includes('reason="topic-forbidden"') ? text : null
    })
    for (const reason of [
      'topic-forbidden',
      'subscribe-forbidden',
      'bad-credentials',
      'anonymous',
      'client-id-mismatch',
      'will-forbidden',
    ]) {
      expect(metrics).toMatch(new RegExp(`sp_mqtt_refused_total\\{reason="${reason}"\\} [1-9]`))
    }
  })
})
