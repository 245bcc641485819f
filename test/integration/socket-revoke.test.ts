import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, Grant } from '#devices'
import { originAllowed } from '../../dashboards/socket-io.ts'
import { apiToken, putArea, signedInPerson } from '../helpers/people.ts'
import { startService, type TestService, waitFor } from '../helpers/service.ts'

/**
 * A socket's access is decided at the handshake and checked again every SOCKETIO_RECHECK_MS (200 ms
 * here): access taken away or changed ends the connection within a couple of sweeps, and the client
 * either reconnects into its new scope or is refused. Browsers of other sites cannot open one at all.
 */

const crew = (...areas: string[]): Grant => ({ role: 'crew', areas })

let n = 0
const alertAt = (site: string): Alert => ({
  id: `revoke-alert-${++n}`,
  deviceId: `bin-${site}`,
  deviceType: 'bin',
  site,
  ruleId: 'bin-full',
  title: 'Bin full',
  severity: 'warning',
  status: 'active',
  value: 0.97,
  text: null,
  detail: null,
  raisedAt: new Date().toISOString(),
  acknowledgedAt: null,
  acknowledgedBy: null,
  acknowledgedComment: null,
  assignedTo: null,
  snoozedUntil: null,
  resolvedAt: null,
  resolvedBy: null,
  resolvedNote: null,
  clearedAt: null,
  incidentId: null,
})

interface Live {
  socket: Socket
  raised: string[]
  /** Settles with the reason of the first disconnect. */
  disconnected: Promise<string>
}

type ConnectOpts = { cookie?: string; token?: string; origin?: string }

const open = (url: string, opts: ConnectOpts): Socket => {
  const headers: Record<string, string> = {}
  if (opts.cookie) headers.cookie = opts.cookie
  if (opts.origin) headers.origin = opts.origin
  return io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: headers,
    ...(opts.token ? { auth: { token: opts.token } } : {}),
  })
}

describe('Socket.IO: connections end when their access ends or changes', () => {
  let svc: TestService
  const sockets: Socket[] = []

  const connect = (opts: ConnectOpts): Promise<Live> =>
    new Promise((resolve, reject) => {
      const socket = open(svc.url, opts)
      sockets.push(socket)
      const raised: string[] = []
      socket.on('alert:raised', (a: Alert) => raised.push(a.id))
      const disconnected = new Promise<string>((done) => socket.once('disconnect', (reason) => done(reason)))
      socket.once('connect', () => resolve({ socket, raised, disconnected }))
      socket.once('connect_error', (err) => {
        socket.close()
        reject(err)
      })
    })
  /** The refusal's message, or 'connected' when the handshake was accepted. */
  const attempt = (opts: ConnectOpts): Promise<string> =>
    connect(opts).then(
      (l) => {
        l.socket.close()
        return 'connected'
      },
      (e: Error) => e.message,
    )
  const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
    Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms))])
  const disconnectedSoon = (l: Live) => within(l.disconnected, 2_000, 'disconnect')

  /** Alerts at `silent` sites first, then at `heard`: once the last has arrived, the earlier ones would have too. */
  const hearsOnly = async (l: Live, heard: string, silent: string[]) => {
    const quiet = silent.map(alertAt)
    const loud = alertAt(heard)
    for (const a of quiet) svc.service.bus.emit('alert:raised', a)
    svc.service.bus.emit('alert:raised', loud)
    await waitFor(() => l.raised.includes(loud.id), 2_000)
    for (const a of quiet) expect(l.raised, `heard ${a.site}`).not.toContain(a.id)
  }

  beforeAll(async () => {
    svc = await startService({ SOCKETIO_RECHECK_MS: '200' })
    const r = svc.service.registry
    await putArea(r, { id: 'north', name: 'North', kind: 'ward', sites: ['north-1'] })
    await putArea(r, { id: 'south', name: 'South', kind: 'ward', sites: ['south-1'] })
    await putArea(r, { id: 'east', name: 'East', kind: 'estate', sites: ['east-1'] })
  })

  afterAll(async () => {
    for (const s of sockets) s.close()
    await svc?.close()
  })

  it('disconnects a person who signs out, and refuses the ended session', async () => {
    const p = await signedInPerson(svc.service.registry, [crew('north')])
    const l = await connect({ cookie: p.cookie })
    const res = await fetch(`${svc.url}/api/auth/sign-out`, { method: 'POST', headers: p.headers })
    expect(res.status).toBe(204)
    expect(await disconnectedSoon(l)).toBe('io server disconnect')
    expect(await attempt({ cookie: p.cookie })).toBe('UNAUTHENTICATED')
  })

  it('disconnects a person who is disabled, and refuses them', async () => {
    const p = await signedInPerson(svc.service.registry, [crew('north')])
    const l = await connect({ cookie: p.cookie })
    await svc.service.registry.people.setStatus(p.id, 'disabled')
    expect(await disconnectedSoon(l)).toBe('io server disconnect')
    expect(await attempt({ cookie: p.cookie })).toBe('UNAUTHENTICATED')
  })

  it('disconnects a person who must now change their password, and refuses them until they do', async () => {
    const p = await signedInPerson(svc.service.registry, [crew('north')])
    const l = await connect({ cookie: p.cookie })
    await svc.service.registry.people.setPassword(p.id, 'not-a-real-hash', true)
    expect(await disconnectedSoon(l)).toBe('io server disconnect')
    expect(await attempt({ cookie: p.cookie })).toBe('PASSWORD_CHANGE_REQUIRED')
  })

  it('disconnects an API token that is revoked, and refuses it', async () => {
    const t = await apiToken(svc.service.registry, crew('north'))
    const l = await connect({ token: t.token })
    await svc.service.registry.tokens.revoke(t.id, new Date())
    expect(await disconnectedSoon(l)).toBe('io server disconnect')
    expect(await attempt({ token: t.token })).toBe('UNAUTHENTICATED')
  })

  it('disconnects an API token that expires, and refuses it', async () => {
    const t = await apiToken(svc.service.registry, crew('north'), { expiresAt: new Date(Date.now() + 1_000) })
    const l = await connect({ token: t.token })
    expect(l.socket.connected).toBe(true)
    expect(await within(l.disconnected, 3_000, 'disconnect')).toBe('io server disconnect')
    expect(await attempt({ token: t.token })).toBe('UNAUTHENTICATED')
  })

  it("moves a person whose grants change to the new area's rooms", async () => {
    const p = await signedInPerson(svc.service.registry, [crew('north')])
    const before = await connect({ cookie: p.cookie })
    await hearsOnly(before, 'north-1', ['south-1'])
    await svc.service.registry.people.setGrants(p.id, [crew('south')])
    expect(await disconnectedSoon(before)).toBe('io server disconnect')
    const after = await connect({ cookie: p.cookie })
    await hearsOnly(after, 'south-1', ['north-1'])
  })

  it("moves a socket whose area's sites change to the new sites' rooms", async () => {
    const t = await apiToken(svc.service.registry, crew('east'))
    const before = await connect({ token: t.token })
    await hearsOnly(before, 'east-1', ['east-2'])
    await putArea(svc.service.registry, { id: 'east', name: 'East', kind: 'estate', sites: ['east-2'] })
    expect(await disconnectedSoon(before)).toBe('io server disconnect')
    const after = await connect({ token: t.token })
    await hearsOnly(after, 'east-2', ['east-1'])
  })

  it('keeps a socket whose access did not change connected across sweeps', async () => {
    const p = await signedInPerson(svc.service.registry, [crew('south')])
    const t = await apiToken(svc.service.registry, crew('north'))
    const person = await connect({ cookie: p.cookie })
    const token = await connect({ token: t.token })
    let dropped = false
    void person.disconnected.then(() => (dropped = true))
    void token.disconnected.then(() => (dropped = true))
    await new Promise((r) => setTimeout(r, 1_000))
    expect(dropped).toBe(false)
    expect([person.socket.connected, token.socket.connected]).toEqual([true, true])
    await hearsOnly(person, 'south-1', ['north-1'])
    await hearsOnly(token, 'north-1', ['south-1'])
  })

  it('refuses a handshake from a page of another origin, and accepts our own origin or none', async () => {
    const p = await signedInPerson(svc.service.registry, [crew('north')])
    expect(await attempt({ cookie: p.cookie, origin: 'https://evil.example' })).toBe('websocket error')
    expect(await attempt({ token: svc.token, origin: 'https://evil.example' })).toBe('websocket error')
    expect(await attempt({ cookie: p.cookie, origin: svc.url })).toBe('connected')
    expect(await attempt({ cookie: p.cookie })).toBe('connected')
    expect(await attempt({ token: svc.token })).toBe('connected')
    // The same refusal over HTTP long-polling carries its stable code.
    const polling = (origin: string) => fetch(`${svc.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin, cookie: p.cookie } })
    const evil = await polling('https://evil.example')
    expect(evil.status).toBe(403)
    expect(await evil.json()).toEqual({ code: 4, message: 'ORIGIN_FORBIDDEN' })
    const ours = await polling(svc.url)
    expect(ours.status).toBe(200)
    await ours.arrayBuffer()
  })
})

describe('originAllowed (unit)', () => {
  it('allows no Origin, the public URL, and the request host; refuses any other origin', () => {
    const pub = 'https://dashboard.council.example/app'
    expect(originAllowed(undefined, '10.0.0.5:8080', pub)).toBe(true)
    expect(originAllowed('https://dashboard.council.example', '10.0.0.5:8080', pub)).toBe(true)
    expect(originAllowed('http://10.0.0.5:8080', '10.0.0.5:8080', pub)).toBe(true)
    expect(originAllowed('http://Dash.local:3000', 'DASH.local:3000', null)).toBe(true)
    expect(originAllowed('http://dashboard.council.example', '10.0.0.5:8080', pub)).toBe(false) // scheme differs
    expect(originAllowed('https://dashboard.council.example:8443', '10.0.0.5:8080', pub)).toBe(false)
    expect(originAllowed('https://evil.example', '10.0.0.5:8080', pub)).toBe(false)
    expect(originAllowed('http://10.0.0.5:9090', '10.0.0.5:8080', null)).toBe(false)
    expect(originAllowed('null', '10.0.0.5:8080', null)).toBe(false)
    expect(originAllowed('https://evil.example', undefined, null)).toBe(false)
  })
})
