import { io } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startService, type TestService } from '../helpers/service.ts'

describe('the API and sockets need the token (acceptance 5)', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startService()
  })
  afterAll(() => svc?.close())

  const routes: [string, string][] = [
    ['GET', '/api/devices'],
    ['POST', '/api/devices'],
    ['GET', '/api/devices/any'],
    ['DELETE', '/api/devices/any'],
    ['GET', '/api/devices/any/readings'],
    ['GET', '/api/alerts'],
    ['POST', '/api/alerts/00000000-0000-4000-8000-000000000000/ack'],
    ['GET', '/api/quarantine'],
    ['GET', '/metrics'],
  ]

  it.each(routes)('%s %s without or with a wrong token is 401 with a stable code', async (method, path) => {
    const variants: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${svc.token}` }]
    for (const headers of variants) {
      const res = await fetch(`${svc.url}${path}`, { method, headers })
      expect(res.status).toBe(401)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED')
    }
  })

  it('refuses socket connections without the right token', async () => {
    for (const auth of [{}, { token: 'wrong-token' }]) {
      const socket = io(svc.url, { auth, transports: ['websocket'], reconnection: false })
      const err = await new Promise<Error>((resolve) => socket.once('connect_error', resolve))
      expect(err.message).toBe('UNAUTHENTICATED')
      socket.close()
    }
  })

  it('answers health and readiness without a token, and validates input with coded errors', async () => {
    expect((await fetch(`${svc.url}/health`)).status).toBe(200)
    const ready = await fetch(`${svc.url}/ready`)
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: {
        influxdb: { ok: true },
        log: { ok: true, detail: expect.stringMatching(/^appending; \d+ bytes in 1 segments, \d+ bytes free$/) },
        'reader:influxdb': { ok: true, detail: '0 records (0 bytes) waiting' },
        'reader:alerts': { ok: true, detail: '0 records (0 bytes) waiting' },
        'reader:quarantine': { ok: true, detail: '0 records (0 bytes) waiting' },
        'reader:collections': { ok: true, detail: '0 records (0 bytes) waiting' },
      },
    })
    const bad = await svc.api('/api/devices', {
      method: 'POST',
      body: JSON.stringify({ id: 'Bad Id', type: 'toaster', name: 'x', site: 's' }),
    })
    expect(bad.status).toBe(400)
    const body = (await bad.json()) as { error: { code: string; issues: { path: string }[] } }
    expect(body.error.code).toBe('BAD_REQUEST')
    expect(body.error.issues.map((i) => i.path).join(' ')).toMatch(/id.*type|type.*id/)
  })

  it('provisions a device once, returns the secret once, and never shows it again', async () => {
    const created = await svc.provision({ id: 'boiler-1', type: 'boiler', site: 'estate', uprn: '100030000001' })
    expect(created.secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const shown = (await (await svc.api('/api/devices/boiler-1')).json()) as Record<string, unknown>
    expect(shown).toMatchObject({ id: 'boiler-1', type: 'boiler', uprn: '100030000001', intervalS: 300, presence: 'unknown' })
    expect(JSON.stringify(shown)).not.toContain(created.secret)
    expect(Object.keys(shown)).not.toContain('secret')
  })

  it('serves the OpenAPI document', async () => {
    const doc = (await (await fetch(`${svc.url}/docs/json`)).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/devices', '/api/devices/{id}/readings', '/api/alerts/{id}/ack', '/api/quarantine']),
    )
  })
})
