/** Talking to a real service's TTS endpoints, for the integration tests. */
import { expect } from 'vitest'
import type { TestService } from '../helpers/service.ts'
import type { Doc } from './fixtures.ts'

export interface Answer {
  status: number
  body: { outcome?: string; detail?: string; error?: { code: string; message: string } }
  retryAfter: string | null
}

export async function post(svc: TestService, secret: string | null, doc: unknown): Promise<Answer> {
  const res = await fetch(`${svc.url}/integrations/tts/uplink`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    body: JSON.stringify(doc),
  })
  return { status: res.status, body: (await res.json()) as Answer['body'], retryAfter: res.headers.get('retry-after') }
}

export async function makeSecret(svc: TestService, app: string): Promise<string> {
  const res = await svc.api(`/api/integrations/tts/applications/${app}/secret`, { method: 'POST' })
  expect(res.status).toBe(201)
  return ((await res.json()) as { secret: string }).secret
}

export async function map(svc: TestService, body: Record<string, unknown>) {
  const res = await svc.api('/api/integrations/tts/mappings', { method: 'POST', body: JSON.stringify(body) })
  expect(res.status, await res.clone().text()).toBe(201)
}

export const points = async (svc: TestService, deviceId: string) => {
  const res = await svc.api(`/api/devices/${deviceId}/readings`)
  return ((await res.json()) as { points: Record<string, unknown>[] }).points
}

export const iso = (doc: Doc) => new Date(Date.parse(doc.received_at.replace(/\.(\d{3})\d*Z$/, '.$1Z'))).toISOString()
