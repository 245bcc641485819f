import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { inject } from 'vitest'
import type { DeviceInput } from '#devices'
import { parseConfig } from '../../service/config.ts'
import { createService, type Service } from '../../service/service.ts'
import { noteSecret, testLogger } from './log-capture.ts'

export interface TestService {
  service: Service
  url: string
  mqttUrl: string
  token: string
  db: string
  influxUrl: string
  dataDir: string
  provision(
    spec: Partial<DeviceInput> & { id: string; type: DeviceInput['type'] },
  ): Promise<{ id: string; secret: string; site: string; type: string }>
  api(path: string, init?: RequestInit): Promise<Response>
  close(): Promise<void>
}

/** A real all-in-one service on free ports with its own data dir and InfluxDB database. */
export interface StartOptions {
  /** Reuse a data dir (restart); it is then left in place on close. */
  dataDir?: string
  db?: string
  influxUrl?: string
  token?: string
  /** The built web app to serve (e2e tests); none by default. */
  webRoot?: string
}

export async function startService(env: Record<string, string> = {}, opts: StartOptions = {}): Promise<TestService> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'sp-test-'))
  const token = opts.token ?? randomBytes(32).toString('base64url')
  const db = opts.db ?? `t_${randomBytes(6).toString('hex')}`
  const influxUrl = opts.influxUrl ?? inject('influxUrl')
  const parsed = parseConfig({
    DATA_DIR: dataDir,
    HTTP_PORT: '0',
    MQTT_PORT: '0',
    MQTT_WS_PORT: '0',
    MQTT_HOST: '127.0.0.1',
    INFLUX_URL: influxUrl,
    INFLUX_DB: db,
    ADMIN_TOKEN: token,
    ...env,
  })
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'))
  noteSecret(token)
  const log = testLogger()
  const service = await createService({ ...parsed.config, INFLUX_URL: influxUrl }, log, opts.webRoot ?? null)
  await service.start()
  const url = service.httpUrl
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) },
    })
  return {
    service,
    url,
    mqttUrl: `mqtt://127.0.0.1:${service.broker.port}`,
    token,
    db,
    influxUrl,
    dataDir,
    api,
    async provision(spec) {
      const body = { name: spec.id, site: 'test-site', ...spec }
      const res = await api('/api/devices', { method: 'POST', body: JSON.stringify(body) })
      if (res.status !== 201) throw new Error(`provision failed: ${res.status} ${await res.text()}`)
      const d = (await res.json()) as { id: string; secret: string; site: string; type: string }
      noteSecret(d.secret)
      return d
    },
    async close() {
      await service.close()
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Connects as a device with its own credentials; rejects when the broker refuses. */
export function connectDevice(url: string, id: string, secret: string | undefined, extra: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: id,
    username: id,
    ...(secret ? { password: secret } : {}),
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...extra,
  })
}

export const telemetryTopic = (d: { site: string; type: string; id: string }) => `sp/v1/${d.site}/${d.type}/${d.id}/telemetry`

export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 5_000,
  stepMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await fn()
      if (v) return v
    } catch (e) {
      last = e
    }
    await new Promise((r) => setTimeout(r, stepMs))
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`)
}

/** The times (epoch ms) of every point of a measurement. */
export async function pointTimes(influxUrl: string, db: string, measurement: string): Promise<number[]> {
  const q = `SELECT * FROM "${measurement}"`
  const res = await fetch(`${influxUrl}/query?${new URLSearchParams({ db, q, epoch: 'ms' })}`)
  const body = (await res.json()) as { results: { series?: { values: unknown[][] }[] }[] }
  return (body.results[0]?.series?.[0]?.values ?? []).map((v) => v[0] as number)
}

/** Counts points for a device in InfluxDB over the v1 query API. */
export async function countPoints(influxUrl: string, db: string, measurement: string, where = 'true'): Promise<number> {
  const q = `SELECT count(*) FROM "${measurement}" WHERE ${where}`
  const res = await fetch(`${influxUrl}/query?${new URLSearchParams({ db, q })}`)
  const body = (await res.json()) as { results: { series?: { values: number[][] }[] }[] }
  const row = body.results[0]?.series?.[0]?.values[0]
  return row ? Math.max(...row.slice(1)) : 0
}
