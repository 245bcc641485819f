import mqtt from 'mqtt'
import { buildTopic, type DeviceInput } from '#devices'
import type { Provisioner } from '../provision.ts'
import type { Plan } from './plan.ts'
import { SCENARIO_EPOCH } from './scenario.ts'

export interface RunOptions {
  url: string
  provision: Provisioner
  /** Device ids are `<prefix>-<key>`. */
  prefix: string
  /** Default: a site of the scenario's own, so a weather sensor or an outage of one scenario never reaches another's devices. */
  site?: string
  /** The service's API (base URL and admin token): needed by scenarios with collection rounds. */
  api?: { url: string; token: string }
}

/** Creates the scenario's rounds (with a prefixed id) and puts its bins on them. */
async function setUpRounds(plan: Plan, o: RunOptions, ids: Record<string, string>, site: string) {
  const rounds = plan.scenario.rounds ?? []
  if (rounds.length === 0) return
  if (!o.api) throw new Error(`scenario ${plan.scenario.name} has collection rounds: pass the API URL and token`)
  const { url, token } = o.api
  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`)
  }
  for (const r of rounds) {
    const id = `${o.prefix}-${r.key}`
    const schedule = { weekdays: r.weekdays, ...(r.time && { time: r.time }) }
    await call('POST', '/api/rounds', { id, name: `${plan.scenario.name} ${r.key}`, site, schedule })
    await call('PUT', `/api/rounds/${id}/bins`, { deviceIds: r.bins.map((b) => ids[b]) })
  }
}

export interface RunResult {
  ids: Record<string, string>
  sent: number
}

/**
 * Plays a plan against a broker: one connection per device with its own
 * credentials, each device's messages in order, QoS 1. Device times are real and
 * strictly increasing; a paced scenario keeps simulated time in step with real time.
 */
export async function runPlan(plan: Plan, o: RunOptions): Promise<RunResult> {
  const site = o.site ?? `scenario-${plan.scenario.name}`.slice(0, 64)
  const pace = plan.scenario.paced
  const ids: Record<string, string> = {}
  const devices = []
  for (const d of plan.devices) {
    const id = `${o.prefix}-${d.key}`
    ids[d.key] = id
    // A paced run reports once per real interval, so the offline rule must count real seconds.
    const intervalS = pace ? Math.max(1, Math.round(d.intervalMs / pace / 1000)) : undefined
    const spec: DeviceInput = { id, type: d.type, name: `${plan.scenario.name} ${d.key}`, site, ...(intervalS ? { intervalS } : {}) }
    const r = await o.provision(spec)
    if (r === 'exists') throw new Error(`device ${id} already exists; use another prefix`)
    devices.push({ plan: d, id, secret: r.secret })
  }
  await setUpRounds(plan, o, ids, site)
  const started = Date.now()
  let sent = 0
  await Promise.all(
    devices.map(async ({ plan: d, id, secret }) => {
      const client = await mqtt.connectAsync(o.url, { clientId: id, username: id, password: secret, reconnectPeriod: 0 })
      const topic = buildTopic({ site, type: d.type, deviceId: id, channel: 'telemetry' })
      let lastTs = 0
      for (const m of d.messages) {
        if (pace) {
          const due = started + (m.at - SCENARIO_EPOCH) / pace
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()))
        }
        const ts = m.ts ?? Math.max(Date.now(), lastTs + 1)
        lastTs = ts
        const body = m.raw ? m.raw(ts) : JSON.stringify({ ts, readings: m.readings })
        await client.publishAsync(topic, body, { qos: 1 })
        sent++
      }
      await client.endAsync()
    }),
  )
  return { ids, sent }
}
