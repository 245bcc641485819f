import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '#devices'
import { apiProvisioner } from '../../simulators/provision.ts'
import { SCENARIOS } from '../../simulators/scenarios/catalog.ts'
import { ALL_RULES, planScenario } from '../../simulators/scenarios/plan.ts'
import { runPlan } from '../../simulators/scenarios/runner.ts'
import { noteSecret } from '../helpers/log-capture.ts'
import { startService, type TestService, waitFor } from '../helpers/service.ts'

const key = (a: { device: string; rule: string }) => `${a.device} ${a.rule}`

describe('scenarios raise exactly the alerts they expect (issue 4 and issue 9, acceptance 1)', () => {
  let svc: TestService
  /** The scenario runner provisions devices and sets up rounds as automation does: with a named API token. */
  let automation: string
  beforeAll(async () => {
    // Scenarios replay days in seconds: no per-device rate limit, a fast offline check, and device
    // times up to six weeks back (a replay sends simulated times moved into the recent past).
    svc = await startService({ MQTT_DEVICE_RATE: '0', OFFLINE_CHECK_MS: '200', TIME_LATE_S: String(42 * 86_400) })
    const res = await svc.api('/api/tokens', {
      method: 'POST',
      body: JSON.stringify({ name: 'scenario runner', grant: { role: 'admin', areas: null }, expiresInDays: 1 }),
    })
    expect(res.status).toBe(201)
    automation = ((await res.json()) as { token: string }).token
    noteSecret(automation)
  })
  afterAll(() => svc?.close())

  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', async (name, scenario) => {
    const plan = planScenario(scenario, 1)
    // The scenario shows what it is about, and nothing outside its brief.
    for (const a of scenario.about) expect(plan.alerts.map(key), `${name} is about ${key(a)}`).toContain(key(a))
    if (scenario.onlyRules) expect(plan.alerts.every((a) => scenario.onlyRules!.includes(a.rule))).toBe(true)
    expect(plan.alerts.every((a) => ALL_RULES.includes(a.rule) || a.rule === 'device-offline')).toBe(true)

    const { ids } = await runPlan(plan, {
      url: svc.mqttUrl,
      provision: apiProvisioner(svc.url, automation),
      prefix: name,
      api: { url: svc.url, token: automation },
    })
    const keyOf = Object.fromEntries(Object.entries(ids).map(([k, id]) => [id, k]))
    const raised = async () => {
      const all = (await (await svc.api('/api/alerts?limit=1000')).json()) as Alert[]
      return all.filter((a) => keyOf[a.deviceId]).map((a) => key({ device: keyOf[a.deviceId]!, rule: a.ruleId }))
    }
    await waitFor(async () => (await raised()).length >= plan.alerts.length, 8_000).catch(() => {})
    await new Promise((r) => setTimeout(r, 300))
    expect((await raised()).sort()).toEqual(plan.alerts.map(key).sort())

    // Devices that went silent together are one incident, with their offline alerts grouped under it.
    const incidents = (await (await svc.api(`/api/incidents?site=scenario-${name}`)).json()) as { id: string }[]
    expect(incidents).toHaveLength(plan.incidents.length)
    for (const [i, devices] of plan.incidents.entries()) {
      const detail = (await (await svc.api(`/api/incidents/${incidents[i]!.id}`)).json()) as { alerts: Alert[] }
      expect(detail.alerts.map((a) => keyOf[a.deviceId]).sort()).toEqual(devices)
    }

    // Collections seen in the bins' levels, as the plan's detector saw them (a replay sends its device times).
    const collected = async () => {
      const out: string[] = []
      // Only bins are collected; asking for another device's collections is answered as no such bin.
      const bins = new Set(plan.devices.filter((d) => d.type === 'bin').map((d) => d.key))
      for (const [k, id] of Object.entries(ids).filter(([key]) => bins.has(key))) {
        const res = await svc.api(`/api/collections?deviceId=${id}&limit=1000`)
        expect(res.status).toBe(200)
        const list = (await res.json()) as { at: string }[]
        for (const c of list) out.push(plan.shiftMs === null ? k : `${k} ${Date.parse(c.at)}`)
      }
      return out.sort()
    }
    const expected = plan.collections.map((c) => (c.at === null ? c.device : `${c.device} ${c.at}`)).sort()
    await waitFor(async () => (await collected()).length >= expected.length, 5_000).catch(() => {})
    expect(await collected()).toEqual(expected)

    const quarantined = (await (await svc.api('/api/quarantine?limit=1000')).json()) as { deviceId: string; code: string }[]
    const mine = quarantined.filter((q) => keyOf[q.deviceId]).map((q) => `${keyOf[q.deviceId]} ${q.code}`)
    expect(mine.sort()).toEqual(plan.quarantine.map((q) => `${q.device} ${q.code}`).sort())
  })
})
