import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '#devices'
import type { RuleOverrideHistoryEntry } from '../../devices/rules/overrides.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

// Issue 9 acceptance 5: a per-device threshold changes that device's alerts only; the change is in the history.
describe('a per-device override of bin-full, end to end', () => {
  let svc: TestService
  const clients: MqttClient[] = []
  const site = 'market-square'

  beforeAll(async () => {
    svc = await startService()
  })
  afterAll(async () => {
    for (const c of clients) await c.endAsync()
    await svc?.close()
  })

  const connect = async (id: string) => {
    const d = await svc.provision({ id, type: 'bin', site })
    const c = await connectDevice(svc.mqttUrl, d.id, d.secret)
    clients.push(c)
    return (fill: number, ts: number) =>
      c.publishAsync(
        telemetryTopic({ site, type: 'bin', id }),
        JSON.stringify({ ts, readings: { fillingLevel: fill, temperature: 12, batteryPct: 80, tilted: false } }),
        { qos: 1 },
      )
  }
  const alertsOf = async (deviceId: string) => (await (await svc.api(`/api/alerts?deviceId=${deviceId}`)).json()) as Alert[]

  it('raises bin-full at 60 % for the overridden bin only', async () => {
    const sendLow = await connect('bin-low')
    const sendStd = await connect('bin-std')
    const put = await svc.api('/api/rules/overrides/device/bin-low/bin-full', {
      method: 'PUT',
      body: JSON.stringify({ params: { raiseAt: 0.5, clearAt: 0.3 }, note: 'fills fast on market days' }),
    })
    expect(put.status).toBe(200)

    const t0 = Date.now() - 10_000
    // The standard bin first: the log is read in order, so once the other bin's alert exists these were evaluated.
    await sendStd(0.6, t0)
    await sendStd(0.6, t0 + 1000)
    await sendLow(0.6, t0)
    await sendLow(0.6, t0 + 1000)

    const raised = await waitFor(async () => (await alertsOf('bin-low')).find((a) => a.ruleId === 'bin-full'), 5_000)
    expect(raised).toMatchObject({ deviceId: 'bin-low', ruleId: 'bin-full', value: 0.6, status: 'active' })
    expect((await alertsOf('bin-std')).filter((a) => a.ruleId === 'bin-full')).toEqual([])
    // The other bin still follows the catalogue: full only near the top.
    await sendStd(0.96, t0 + 2000)
    await sendStd(0.96, t0 + 3000)
    const std = await waitFor(async () => (await alertsOf('bin-std')).find((a) => a.ruleId === 'bin-full'), 5_000)
    expect(std).toMatchObject({ value: 0.96, raisedAt: new Date(t0 + 3000).toISOString() })

    const history = (await (
      await svc.api('/api/rules/overrides/history?target=bin-low&ruleId=bin-full')
    ).json()) as RuleOverrideHistoryEntry[]
    expect(history).toEqual([
      expect.objectContaining({
        action: 'set',
        actor: 'admin-token',
        scope: 'device',
        before: null,
        after: { params: { raiseAt: 0.5, clearAt: 0.3 }, disabled: false },
        note: 'fills fast on market days',
      }),
    ])
  })
})
