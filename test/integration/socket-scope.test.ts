import { randomBytes } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, AlertChanged, DeviceState, Incident } from '#devices'
import { AREA, type AuthzFixture, type Caller, call, grantOf, SITE, startAuthzFixture } from '../helpers/authz-fixture.ts'
import { signedInPerson } from '../helpers/people.ts'
import { connectDevice, telemetryTopic, waitFor } from '../helpers/service.ts'

/**
 * Acceptance 1 of issue 10, live side: a socket hears only the events of its grants' data classes
 * and sites. Devices report over MQTT at both sites; people act through the API; then every socket
 * is sent a last event of its own site (the sentinel) and what it heard before it is checked.
 */

interface Heard {
  event: string
  payload: unknown
}

interface Listener {
  name: string
  socket: Socket
  heard: Heard[]
}

const LIVE = {
  binA: { id: 'live-bin-a', type: 'bin', site: SITE.a },
  binB: { id: 'live-bin-b', type: 'bin', site: SITE.b },
  boilerA: { id: 'live-boiler-a', type: 'boiler', site: SITE.a },
  roomA: { id: 'live-room-a', type: 'room', site: SITE.a },
  meterA: { id: 'live-meter-a', type: 'meter', site: SITE.a },
} as const
type Live = keyof typeof LIVE

/** The (site, device type) an event is about; null for incidents, which are a site's. */
function aboutOf(h: Heard): { site: string; type: string | null } {
  const p = h.payload as Partial<Alert & DeviceState & Incident & AlertChanged>
  if (h.event === 'device:state') return { site: p.site!, type: p.type! }
  if (h.event === 'alert:changed') return { site: p.alert!.site, type: p.alert!.deviceType }
  if (h.event.startsWith('alert:')) return { site: p.site!, type: p.deviceType! }
  if (h.event.startsWith('incident:')) return { site: p.site!, type: null }
  if (h.event === 'case:changed') return { site: (h.payload as { site: string }).site, type: 'case' }
  if (h.event === 'collection:recorded') return { site: (h.payload as { site: string }).site, type: 'collection' }
  throw new Error(`unexpected event ${h.event}`)
}

const connect = (url: string, opts: { cookie?: string; token?: string }): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      ...(opts.token ? { auth: { token: opts.token } } : {}),
      ...(opts.cookie ? { extraHeaders: { cookie: opts.cookie } } : {}),
    })
    socket.once('connect', () => resolve(socket))
    socket.once('connect_error', (err) => {
      socket.close()
      reject(err)
    })
  })

describe('Socket.IO: each socket hears only its areas and its kinds of data', () => {
  let f: AuthzFixture
  const devices = new Map<Live, MqttClient>()
  const listeners = new Map<string, Listener>()
  const alertIds = {} as Record<'binA' | 'binB' | 'boilerA', string>
  let sentinel: Incident
  let caseA = ''

  const listen = async (name: string, caller: Caller) => {
    const socket = await connect(f.svc.url, caller.via === 'session' ? { cookie: caller.cookie! } : { token: caller.token! })
    const l: Listener = { name, socket, heard: [] }
    socket.onAny((event: string, payload: unknown) => l.heard.push({ event, payload }))
    listeners.set(name, l)
  }
  const heard = (name: string) => listeners.get(name)!.heard
  const beforeSentinel = (name: string) => {
    const all = heard(name)
    const at = all.findIndex((h) => h.event === 'incident:updated' && (h.payload as Incident).id === sentinel.id)
    return at < 0 ? all : all.slice(0, at)
  }

  let ts = Date.now() - 120_000
  const publish = (d: Live, readings: Record<string, unknown>) => {
    ts += 1000
    return devices.get(d)!.publishAsync(telemetryTopic(LIVE[d]), JSON.stringify({ ts, readings }), { qos: 1 })
  }
  const fullBin = { fillingLevel: 0.97, temperature: 11, batteryPct: 90, tilted: false }

  beforeAll(async () => {
    f = await startAuthzFixture()
    for (const [key, d] of Object.entries(LIVE) as [Live, (typeof LIVE)[Live]][]) {
      const made = await f.svc.provision({ id: d.id, type: d.type, site: d.site })
      devices.set(key, await connectDevice(f.svc.mqttUrl, made.id, made.secret))
    }
    await listen('admin', f.caller('admin', 'token'))
    for (const who of ['crew', 'housing', 'energy', 'viewer'] as const) {
      await listen(`${who} session`, f.caller(who, 'session'))
      await listen(`${who} token`, f.caller(who, 'token'))
    }
    // Someone of area B: hears area B's bin and nothing of area A.
    await listen('crew of B', await f.newCaller('crew', 'session', { side: 'b' }))

    // Ordinary readings of every kind first, until each socket has the live state it should: state is
    // volatile (a socket busy writing skips it), so it is sent again rather than hoped for.
    const quiet: Record<Live, Record<string, unknown>> = {
      binA: { ...fullBin, fillingLevel: 0.2 },
      binB: { ...fullBin, fillingLevel: 0.2 },
      boilerA: { flowTemp: 60, returnTemp: 50, pressureBar: 1.5, burnerOn: true, lockout: false },
      roomA: { temperature: 19, humidity: 55 },
      meterA: { energyWh: 1_000_000, powerW: 800 },
    }
    const states: [string, Live[]][] = [
      ['admin', ['binA', 'binB', 'boilerA', 'roomA', 'meterA']],
      ...(['session', 'token'] as const).flatMap((via): [string, Live[]][] => [
        [`crew ${via}`, ['binA']],
        [`housing ${via}`, ['boilerA', 'roomA']],
        [`energy ${via}`, ['meterA']],
        [`viewer ${via}`, ['binA', 'meterA']],
      ]),
      ['crew of B', ['binB']],
    ]
    const hasState = (name: string, d: Live) =>
      heard(name).some((h) => h.event === 'device:state' && (h.payload as DeviceState).deviceId === LIVE[d].id)
    for (let attempt = 1; ; attempt++) {
      for (const d of Object.keys(LIVE) as Live[]) await publish(d, quiet[d])
      try {
        await waitFor(() => states.every(([name, ds]) => ds.every((d) => hasState(name, d))), 1_500)
        break
      } catch (e) {
        if (attempt === 5) throw e
      }
    }

    // Alerts at both sites and of two kinds.
    await publish('binB', fullBin)
    await publish('binB', fullBin)
    await publish('boilerA', { flowTemp: 60, returnTemp: 50, pressureBar: 1.5, burnerOn: false, lockout: true })
    await publish('binA', fullBin)
    await publish('binA', fullBin)
    const raised = (d: (typeof LIVE)[Live], rule: string) =>
      waitFor(
        () =>
          heard('admin').find(
            (h) => h.event === 'alert:raised' && (h.payload as Alert).deviceId === d.id && (h.payload as Alert).ruleId === rule,
          ),
        10_000,
      )
    alertIds.binB = ((await raised(LIVE.binB, 'bin-full')).payload as Alert).id
    alertIds.boilerA = ((await raised(LIVE.boilerA, 'boiler-lockout')).payload as Alert).id
    alertIds.binA = ((await raised(LIVE.binA, 'bin-full')).payload as Alert).id

    // People act on each: alert:changed (and alert:acknowledged) for each.
    const admin = f.caller('admin', 'session')
    const act = async (id: string, action: string, body: unknown) => {
      const res = await call(f.svc, admin, 'POST', `/api/alerts/${id}/${action}`, body)
      expect(res.status, `${action} ${id}`).toBe(200)
      await res.arrayBuffer()
    }
    await act(alertIds.binB, 'acknowledge', { comment: 'B crew informed' })
    await act(alertIds.boilerA, 'acknowledge', { comment: 'engineer booked for Flat 3' })
    await act(alertIds.binA, 'acknowledge', { comment: 'crew passing at noon' })
    await act(alertIds.binA, 'assign', { to: `team:crew@${AREA.a}`, note: 'north round' })
    await act(alertIds.boilerA, 'assign', { to: `team:housing@${AREA.a}`, note: 'patch 4' })
    // A case opened on area A's boiler, one changed at area B, and a bin of area A emptied.
    const opened = await call(f.svc, admin, 'POST', '/api/cases', {
      alertId: alertIds.boilerA,
      category: 'significant',
      hazard: 'excess-cold',
    })
    expect(opened.status).toBe(201)
    caseA = ((await opened.json()) as { id: string }).id
    f.svc.service.bus.emit('case:changed', { caseId: 'case-at-site-b', site: SITE.b, deviceId: null })
    const emptied = await call(f.svc, admin, 'POST', `/api/bins/${LIVE.binA.id}/collections`, {})
    expect(emptied.status).toBe(201)
    await emptied.arrayBuffer()

    // Live state is pushed at most once a second per device: let the last pushes go out first.
    await new Promise((r) => setTimeout(r, 1_300))
    const incidentB = (await f.registry.incidents.get(f.incidents.b))!
    f.svc.service.bus.emit('incident:updated', incidentB)
    sentinel = (await f.registry.incidents.get(f.incidents.a))!
    f.svc.service.bus.emit('incident:updated', sentinel)
    for (const name of listeners.keys()) {
      if (name === 'crew of B') continue
      await waitFor(() => heard(name).some((h) => h.event === 'incident:updated' && (h.payload as Incident).id === sentinel.id), 5_000)
    }
    await waitFor(
      () => heard('crew of B').some((h) => h.event === 'incident:updated' && (h.payload as Incident).id === incidentB.id),
      5_000,
    )
  }, 60_000)

  afterAll(async () => {
    for (const l of listeners.values()) l.socket.close()
    for (const d of devices.values()) await d.endAsync()
    await f?.close()
  })

  /** What a socket heard about before the sentinel, as kind@site. */
  const kinds = (name: string) => new Set(beforeSentinel(name).map((h) => `${aboutOf(h).type ?? 'incident'}@${aboutOf(h).site}`))

  it('tells a crew of area A about its bins and nothing of area B, nor of boilers, rooms or cases', () => {
    for (const name of ['crew session', 'crew token']) {
      const got = beforeSentinel(name)
      expect([...kinds(name)].sort(), name).toEqual(['bin@site-a', 'collection@site-a'])
      expect(
        got.some((h) => h.event.startsWith('case')),
        name,
      ).toBe(false)
      // The bin emptied, with who marked it (crews see people).
      const emptied = got
        .filter((h) => h.event === 'collection:recorded')
        .map((h) => h.payload as { collection: { deviceId: string; actor: string } })
      expect(
        emptied.map((e) => [e.collection.deviceId, e.collection.actor]),
        name,
      ).toEqual([[LIVE.binA.id, f.caller('admin', 'session').actor]])
      const text = JSON.stringify(got)
      for (const leak of [SITE.b, LIVE.binB.id, LIVE.boilerA.id, LIVE.roomA.id, alertIds.binB, alertIds.boilerA, 'Flat 3']) {
        expect(text, `${name} heard of ${leak}`).not.toContain(leak)
      }
      // And it did hear its own: the bin's alert, each action on it with who and what, and its live state.
      const onBin = (event: string) => got.filter((h) => h.event === event && aboutOf(h).type === 'bin')
      expect(
        onBin('alert:raised').map((h) => (h.payload as Alert).id),
        name,
      ).toEqual([alertIds.binA])
      expect(
        onBin('alert:acknowledged').map((h) => (h.payload as Alert).id),
        name,
      ).toEqual([alertIds.binA])
      const changes = onBin('alert:changed').map((h) => h.payload as AlertChanged)
      expect(
        changes.map((c) => [c.action, c.alert.id, c.entry.actor]),
        name,
      ).toEqual([
        ['acknowledged', alertIds.binA, f.caller('admin', 'session').actor],
        ['assigned', alertIds.binA, f.caller('admin', 'session').actor],
      ])
      expect(changes[0]!.alert.acknowledgedComment).toBe('crew passing at noon')
      expect(onBin('device:state').map((h) => (h.payload as DeviceState).deviceId)).toContain(LIVE.binA.id)
    }
  })

  it('tells housing of area A about its boilers and rooms, and nothing of bins, meters or area B', () => {
    for (const name of ['housing session', 'housing token']) {
      const got = beforeSentinel(name)
      expect([...kinds(name)].sort(), name).toEqual(['boiler@site-a', 'case@site-a', 'room@site-a'])
      // The case by id and place only: the page fetches it through the API.
      expect(got.filter((h) => h.event === 'case:changed').map((h) => h.payload)).toEqual([
        { caseId: caseA, site: SITE.a, deviceId: LIVE.boilerA.id },
      ])
      const text = JSON.stringify(got)
      for (const leak of [SITE.b, LIVE.binA.id, LIVE.binB.id, LIVE.meterA.id, alertIds.binA, alertIds.binB]) {
        expect(text, `${name} heard of ${leak}`).not.toContain(leak)
      }
      expect(got.filter((h) => h.event === 'alert:raised').map((h) => (h.payload as Alert).id)).toEqual([alertIds.boilerA])
      const changes = got.filter((h) => h.event === 'alert:changed').map((h) => h.payload as AlertChanged)
      expect(changes.map((c) => [c.action, c.alert.id])).toEqual([
        ['acknowledged', alertIds.boilerA],
        ['assigned', alertIds.boilerA],
      ])
      const states = got.filter((h) => h.event === 'device:state').map((h) => (h.payload as DeviceState).deviceId)
      expect(states).toContain(LIVE.boilerA.id)
      expect(states).toContain(LIVE.roomA.id)
    }
  })

  it('tells energy of area A about its meters only', () => {
    for (const name of ['energy session', 'energy token']) {
      expect([...kinds(name)].sort(), name).toEqual(['meter@site-a'])
      expect(
        beforeSentinel(name).filter((h) => h.event.startsWith('alert:')),
        name,
      ).toEqual([])
    }
  })

  it('tells a viewer what happened to an alert but not who did it or what they wrote', () => {
    for (const name of ['viewer session', 'viewer token']) {
      const got = beforeSentinel(name)
      expect([...kinds(name)].sort(), name).toEqual(['bin@site-a', 'collection@site-a', 'meter@site-a'])
      // That a bin was emptied, not by whom.
      const emptied = got.filter((h) => h.event === 'collection:recorded').map((h) => h.payload as { collection: { actor: string } })
      expect(
        emptied.map((e) => e.collection.actor),
        name,
      ).toEqual(['someone'])
      const changes = got.filter((h) => h.event === 'alert:changed').map((h) => h.payload as AlertChanged)
      expect(
        changes.map((c) => [c.action, c.alert.id]),
        name,
      ).toEqual([
        ['acknowledged', alertIds.binA],
        ['assigned', alertIds.binA],
      ])
      for (const c of changes) {
        expect(c.entry.actor, name).toBe('someone')
        expect([c.entry.note, c.entry.assignedTo], name).toEqual([null, null])
        expect(c.alert, name).toMatchObject({ acknowledgedBy: null, acknowledgedComment: null, assignedTo: null })
      }
      const acknowledged = got.filter((h) => h.event === 'alert:acknowledged').map((h) => h.payload as Alert)
      expect(
        acknowledged.map((a) => [a.id, a.acknowledgedBy, a.acknowledgedComment]),
        name,
      ).toEqual([[alertIds.binA, null, null]])
      const text = JSON.stringify(got)
      for (const leak of [f.caller('admin', 'session').id!, 'crew passing at noon', 'north round', `team:crew@${AREA.a}`]) {
        expect(text, `${name} heard ${leak}`).not.toContain(leak)
      }
    }
  })

  it('tells a crew of area B about area B only, and an admin about everything', () => {
    const b = heard('crew of B')
    const kindsB = new Set(b.map((h) => `${aboutOf(h).type ?? 'incident'}@${aboutOf(h).site}`))
    expect([...kindsB].sort()).toEqual(['bin@site-b', 'incident@site-b'])
    expect(b.filter((h) => h.event === 'alert:raised').map((h) => (h.payload as Alert).id)).toEqual([alertIds.binB])

    expect([...kinds('admin')].sort()).toEqual([
      'bin@site-a',
      'bin@site-b',
      'boiler@site-a',
      'case@site-a',
      'case@site-b',
      'collection@site-a',
      'incident@site-b',
      'meter@site-a',
      'room@site-a',
    ])
  })

  it('refuses a socket without credentials, with forged ones, or of a person who must change a one-time password', async () => {
    const refusal = async (opts: { cookie?: string; token?: string }) => {
      const err = (await connect(f.svc.url, opts).then(
        (s) => {
          s.close()
          return null
        },
        (e: Error & { data?: { code?: string } }) => e,
      )) as (Error & { data?: { code?: string } }) | null
      return err && [err.message, err.data?.code]
    }
    expect(await refusal({})).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED'])
    expect(await refusal({ cookie: `sp_session=${randomBytes(32).toString('base64url')}` })).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED'])
    expect(await refusal({ token: `spt_${randomBytes(32).toString('base64url')}` })).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED'])
    const pending = await signedInPerson(f.registry, [grantOf('crew')], { mustChangePassword: true })
    expect(await refusal({ cookie: pending.cookie })).toEqual(['PASSWORD_CHANGE_REQUIRED', 'PASSWORD_CHANGE_REQUIRED'])
  })
})
