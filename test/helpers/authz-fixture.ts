import type { Grant, Role } from '#devices'
import { hashPassword } from '../../dashboards/access/passwords.ts'
import type { Registry } from '../../store/registry.ts'
import { apiToken, putArea, signedInPerson } from './people.ts'
import { startService, type TestService } from './service.ts'

/**
 * One service with two areas of one site each, the same kinds of object in both, and a caller
 * of every role (signed in, and as an API token) holding area A only; for the authorisation
 * matrix, the OWASP API negative tests and the Socket.IO scoping test.
 */

export type Side = 'a' | 'b'
export const SIDES: readonly Side[] = ['a', 'b']
export const SITE = { a: 'site-a', b: 'site-b' } as const
export const AREA = { a: 'area-a', b: 'area-b' } as const
/** Boilers and rooms are in homes; the A bin stands at a block of flats with a UPRN of its own. */
export const UPRN = { boilerA: '100023336956', boilerB: '100023336957', roomA: '100023336958', binA: '100023336959' } as const

export const KINDS = ['bin', 'boiler', 'room', 'meter'] as const
export type Kind = (typeof KINDS)[number]

export const WHO = ['admin', 'crew', 'housing', 'energy', 'viewer'] as const satisfies readonly Role[]
export type Who = (typeof WHO)[number]
/** How a caller authenticates: a session cookie (with its CSRF token), an API token, or the ADMIN_TOKEN of the environment. */
export type Via = 'session' | 'token' | 'admin-token'

export interface Caller {
  /** e.g. 'crew session', 'viewer token', 'none'. */
  name: string
  who: Who | 'none'
  via: Via | 'none'
  headers: Record<string, string>
  /** As stored in histories; null without credentials. */
  actor: string | null
  /** Person or token id; null for ADMIN_TOKEN and none. */
  id: string | null
  /** The session cookie and CSRF token of a person. */
  cookie?: string
  csrf?: string
  /** The bearer token of a token caller. */
  token?: string
}

/** The one grant a caller of this role holds: admins everywhere, others in one area. */
export const grantOf = (who: Who, side: Side = 'a'): Grant =>
  who === 'admin' ? { role: 'admin', areas: null } : { role: who, areas: [AREA[side]] }

export interface AuthzFixture {
  svc: TestService
  registry: Registry
  /** Device ids by side and kind: `bin-a`, `boiler-b` … */
  devices: Record<Side, Record<Kind, string>>
  /** One active alert on each device. */
  alerts: Record<Side, Record<Kind, string>>
  /** An open incident per site, with an offline alert of its bin and of its boiler under it. */
  incidents: Record<Side, string>
  incidentAlerts: Record<Side, { bin: string; boiler: string }>
  rounds: Record<Side, string>
  /** An Awaab's Law case on each boiler, opened through the API by an admin. */
  cases: Record<Side, string>
  /** A crew member of each area, as an object for the person routes. */
  people: Record<Side, string>
  /** Every caller: each role signed in and as a token, ADMIN_TOKEN, and none. */
  callers: readonly Caller[]
  caller(who: Who, via?: Via): Caller
  none: Caller
  /** A number no other call of this fixture returns, for fresh ids. */
  unique(): number
  /** A fresh caller of a role (for routes that end or change the caller's own session); a person may be given a password. */
  newCaller(who: Who, via: Exclude<Via, 'admin-token'>, opts?: { side?: Side; password?: string }): Promise<Caller>
  newDevice(side: Side, kind: Kind): Promise<string>
  /** A fresh alert on the side's device of this kind, in this state, under a rule id of its own. */
  newAlert(side: Side, kind: Kind, state?: 'active' | 'snoozed' | 'resolved'): Promise<string>
  newCase(side: Side): Promise<string>
  newRound(side: Side): Promise<string>
  newPerson(side: Side, status?: 'active' | 'invited'): Promise<string>
  newToken(side: Side): Promise<string>
  newArea(): Promise<string>
  close(): Promise<void>
}

const byKind = <T>(f: (k: Kind) => T): Record<Kind, T> => ({ bin: f('bin'), boiler: f('boiler'), room: f('room'), meter: f('meter') })

export async function startAuthzFixture(env: Record<string, string> = {}, opts: { webRoot?: string } = {}): Promise<AuthzFixture> {
  const svc = await startService(env, opts.webRoot ? { webRoot: opts.webRoot } : {})
  const registry = svc.service.registry
  let counter = 0
  const unique = () => ++counter

  for (const side of SIDES)
    await putArea(registry, { id: AREA[side], name: `Area ${side.toUpperCase()}`, kind: 'ward', sites: [SITE[side]] })

  const uprnOf = (side: Side, kind: Kind): string | null =>
    side === 'a'
      ? ({ bin: UPRN.binA, boiler: UPRN.boilerA, room: UPRN.roomA, meter: null } as const)[kind]
      : kind === 'boiler'
        ? UPRN.boilerB
        : null
  const devices = {} as Record<Side, Record<Kind, string>>
  for (const side of SIDES) {
    devices[side] = byKind((k) => `${k}-${side}`)
    for (const k of KINDS) await svc.provision({ id: `${k}-${side}`, type: k, site: SITE[side], uprn: uprnOf(side, k) })
  }

  const raise = async (side: Side, kind: Kind, ruleId: string, incidentId?: string) => {
    const a = await registry.alerts.raise({
      deviceId: devices[side][kind],
      deviceType: kind,
      site: SITE[side],
      rule: { id: ruleId, title: `${ruleId} on ${kind} ${side}`, severity: 'warning' },
      value: 1,
      ts: Date.now() + unique(),
      ...(incidentId && { incidentId }),
    })
    if (!a) throw new Error(`alert ${ruleId} on ${kind}-${side} was not raised`)
    return a.id
  }
  const alerts = {} as Record<Side, Record<Kind, string>>
  const incidents = {} as Record<Side, string>
  const incidentAlerts = {} as Record<Side, { bin: string; boiler: string }>
  for (const side of SIDES) {
    alerts[side] = {} as Record<Kind, string>
    for (const k of KINDS) alerts[side][k] = await raise(side, k, `fixture-${k}`)
    const incident = await registry.incidents.open(SITE[side], Date.now(), 2)
    incidents[side] = incident.id
    incidentAlerts[side] = {
      bin: await raise(side, 'bin', 'device-offline', incident.id),
      boiler: await raise(side, 'boiler', 'device-offline', incident.id),
    }
    await registry.incidents.refresh(incident.id, Date.now())
  }

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await svc.api(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    if (res.status >= 300) throw new Error(`${method} ${path} failed: ${res.status} ${await res.text()}`)
    return (res.status === 204 ? null : await res.json()) as { id: string }
  }

  const newRound = async (side: Side) => {
    const id = `round-${side}-${unique()}`
    await admin('POST', '/api/rounds', { id, name: `Round ${id}`, site: SITE[side], schedule: { weekdays: [2, 5], time: '07:00' } })
    return id
  }
  const rounds = { a: await newRound('a'), b: await newRound('b') }
  for (const side of SIDES) await admin('PUT', `/api/rounds/${rounds[side]}/bins`, { deviceIds: [devices[side].bin] })

  const newCase = async (side: Side) =>
    (await admin('POST', '/api/cases', { deviceId: devices[side].boiler, category: 'significant', hazard: 'damp-mould' })).id
  const cases = { a: await newCase('a'), b: await newCase('b') }

  const newPerson = async (side: Side, status: 'active' | 'invited' = 'active') => {
    const n = unique()
    const p = await registry.people.create({
      email: `person-${n}@council.example`,
      name: `Person ${n}`,
      grants: [grantOf('crew', side)],
      status,
      passwordHash: null,
      mustChangePassword: false,
      createdBy: 'admin-token',
    })
    return p.id
  }
  const people = { a: await newPerson('a'), b: await newPerson('b') }

  const newCaller: AuthzFixture['newCaller'] = async (who, via, opts = {}) => {
    const grant = grantOf(who, opts.side ?? 'a')
    const n = unique()
    if (via === 'session') {
      const p = await signedInPerson(registry, [grant], { name: `${who} ${n}`, email: `${who}-${n}@council.example` })
      if (opts.password) await registry.people.setPassword(p.id, await hashPassword(opts.password), false)
      return { name: `${who} session`, who, via, headers: p.headers, actor: p.actor, id: p.id, cookie: p.cookie, csrf: p.csrf }
    }
    const t = await apiToken(registry, grant, { name: `${who} token ${n}` })
    return { name: `${who} token`, who, via, headers: t.headers, actor: t.actor, id: t.id, token: t.token }
  }
  const callers: Caller[] = []
  for (const who of WHO) for (const via of ['session', 'token'] as const) callers.push(await newCaller(who, via))
  callers.push({
    name: 'ADMIN_TOKEN',
    who: 'admin',
    via: 'admin-token',
    headers: { authorization: `Bearer ${svc.token}` },
    actor: 'admin-token',
    id: null,
    token: svc.token,
  })
  const none: Caller = { name: 'none', who: 'none', via: 'none', headers: {}, actor: null, id: null }
  callers.push(none)

  return {
    svc,
    registry,
    devices,
    alerts,
    incidents,
    incidentAlerts,
    rounds,
    cases,
    people,
    callers,
    none,
    caller(who, via = 'session') {
      const c = callers.find((x) => x.who === who && x.via === via)
      if (!c) throw new Error(`no ${who} caller by ${via}`)
      return c
    },
    unique,
    newCaller,
    async newDevice(side, kind) {
      const id = `${kind}-${side}-${unique()}`
      await svc.provision({ id, type: kind, site: SITE[side] })
      return id
    },
    async newAlert(side, kind, state = 'active') {
      const id = await raise(side, kind, `fresh-${unique()}`)
      const at = new Date()
      if (state === 'snoozed')
        await registry.alerts.command(id, { command: 'snooze', until: new Date(Date.now() + 3_600_000) }, 'admin-token', at)
      if (state === 'resolved') await registry.alerts.command(id, { command: 'resolve', note: 'dealt with' }, 'admin-token', at)
      return id
    },
    newCase,
    newRound,
    newPerson,
    async newToken(side) {
      return (await apiToken(registry, grantOf('crew', side), { name: `revocable ${unique()}` })).id
    },
    async newArea() {
      const id = `area-x-${unique()}`
      await putArea(registry, { id, name: `Area ${id}`, kind: 'estate', sites: [`site-x-${counter}`] })
      return id
    },
    close: () => svc.close(),
  }
}

/** A request as a caller: JSON body if any; session callers send their CSRF token too (the access hook wants it on writes). */
export async function call(
  svc: TestService,
  caller: Pick<Caller, 'headers'>,
  method: string,
  path: string,
  body?: unknown,
  extra: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${svc.url}${path}`, {
    method,
    headers: { ...caller.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...extra },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    redirect: 'manual',
  })
}
