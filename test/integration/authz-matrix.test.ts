import { createECDH, randomBytes } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collectRoutes } from '../../dashboards/access/route-table.ts'
import {
  AREA,
  type AuthzFixture,
  type Caller,
  call,
  type Kind,
  SITE,
  type Side,
  startAuthzFixture,
  WHO,
  type Who,
} from '../helpers/authz-fixture.ts'
import { noteSecret } from '../helpers/log-capture.ts'
import { requireBuiltWebApp, WEB_ROOT } from '../helpers/web.ts'

/**
 * Acceptance 1 of issue 10: every route the server registers, read from Fastify's own route table,
 * held to an expected status for every role (signed in, and as an API token), for an object in
 * the caller's area (A) and one outside it (B), and without credentials.
 *
 * Statuses: 2xx allowed; 403 refused at the route (the role may never call it); 404 the object is
 * outside the caller's scope and answers as a missing one; 401 no credentials.
 */

type S = number | readonly number[]
/** [object in area A, object in area B]; one element for a route that names no object. */
type Row = readonly [S] | readonly [S, S]
type Expect = { public: S } | Readonly<Record<Who, Row>>

interface Target {
  path: string
  body?: unknown
}

interface Case {
  /** What the object is, when a route is tried with several kinds. */
  label?: string
  /** The path (and a minimal valid body) for an object in area A or B; may make a fresh object. */
  target(side: Side, f: AuthzFixture): Target | Promise<Target>
  expect: Expect
  /** Where an API token of a role (and ADMIN_TOKEN for admin) is answered differently from a person. */
  tokens?: Partial<Record<Who, Row>>
  /** Each call by a new caller of the role: the route ends or changes the caller's own session. */
  freshCaller?: { password?: string }
}

/** Who reads, and who acts on, each kind of device, as issue 10 states it; admins do everything everywhere. */
const READERS: Record<Kind, readonly Who[]> = {
  bin: ['crew', 'viewer'],
  boiler: ['housing'],
  room: ['housing'],
  meter: ['energy', 'viewer'],
}
const ACTORS: Record<Kind, readonly Who[]> = { bin: ['crew'], boiler: ['housing'], room: ['housing'], meter: ['energy'] }
/** The role whose team an alert on this kind of device is assigned to. */
const TEAM: Record<Kind, Who> = { bin: 'crew', boiler: 'housing', room: 'housing', meter: 'energy' }

/** A browser's PushSubscription.toJSON(), at a public push-service address (nothing is sent to it here). */
let pushes = 0
const pushSubscription = () => {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  return {
    endpoint: `https://8.8.8.8/push/${++pushes}`,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey('base64url'), auth: randomBytes(16).toString('base64url') },
  }
}

const by = (f: (w: Who) => Row): Record<Who, Row> => Object.fromEntries(WHO.map((w) => [w, f(w)])) as Record<Who, Row>
const PUBLIC = (status: S): Expect => ({ public: status })
/** Anyone signed in, whatever their role. */
const everyone = (ok: S): Expect => by(() => [ok])
/** Administrators only; others refused at the route. */
const adminOnly = (ok: S, sides: 1 | 2 = 2): Expect =>
  by((w) => (w === 'admin' ? (sides === 2 ? [ok, ok] : [ok]) : sides === 2 ? [403, 403] : [403]))
/** A listing the given roles may call (filtered to their scope); others refused at the route. */
const listing = (allowed: readonly Who[], ok: S = 200): Expect => by((w) => (w === 'admin' || allowed.includes(w) ? [ok] : [403]))
/** An object on a route the given roles may call: theirs in A, as missing in B; other roles refused at the route. */
const objectFor = (allowed: readonly Who[], ok: S = 200): Expect =>
  by((w) => (w === 'admin' ? [ok, ok] : allowed.includes(w) ? [ok, 404] : [403, 403]))
/** Reading a device (or its alert) on a route every role may call: the kind decides, and area B is never seen. */
const readsKind = (kind: Kind, ok: S = 200): Expect =>
  by((w) => (w === 'admin' ? [ok, ok] : READERS[kind].includes(w) ? [ok, 404] : [404, 404]))
/** Acting on a device's alert: a viewer is refused at the route; others as reading, with the roles that act on the kind. */
const actsOnKind = (kind: Kind, ok: S = 200): Expect =>
  by((w) => (w === 'admin' ? [ok, ok] : w === 'viewer' ? [403, 403] : ACTORS[kind].includes(w) ? [ok, 404] : [404, 404]))

const at = (ms: number) => new Date(ms).toISOString()
const kinds = (list: readonly Kind[], make: (k: Kind) => Case): Case[] => list.map((k) => ({ ...make(k), label: k }))
/** An alert action tried on a fresh alert (in the state it needs) of each kind. */
const alertAction = (
  action: string,
  state: 'active' | 'snoozed' | 'resolved',
  body: (k: Kind, side: Side) => unknown,
  ok: S = 200,
): Case[] =>
  kinds(['bin', 'boiler', 'meter'], (k) => ({
    target: async (side, f) => ({ path: `/api/alerts/${await f.newAlert(side, k, state)}/${action}`, body: body(k, side) }),
    expect: actsOnKind(k, ok),
  }))

const MATRIX_WEBHOOK = { url: 'https://93.184.215.14/hook', eventTypes: ['incident.raised' as const] }
const newWebhook = async (f: AuthzFixture) =>
  (await f.svc.service.registry.webhooks.create({ ...MATRIX_WEBHOOK, description: '', ruleIds: [], areas: [] }, 'admin-token')).id
/** A dead letter of its own for each call. */
const deadDelivery = async (f: AuthzFixture) => {
  const { outbox } = f.svc.service.registry
  const target = `matrix-${f.unique()}`
  const payload = '{"type":"incident.raised"}'
  await outbox.commit(target, 0, 1, [{ eventId: `msg_${target}`, eventType: 'incident.raised', channel: 'webhook', target, payload }])
  const [d] = await outbox.list({ target })
  await outbox.record(d!.id, { state: 'dead', at: new Date(), error: 'matrix' })
  return d!.id
}

const NEW_PASSWORD = 'kettle lantern orchard 1984'
const OLD_PASSWORD = 'copper meadow bicycle 77'
noteSecret(NEW_PASSWORD)
noteSecret(OLD_PASSWORD)

const MATRIX: Record<string, Case | readonly Case[]> = {
  // Operations and documentation: public.
  'GET /health': { target: () => ({ path: '/health' }), expect: PUBLIC(200) },
  'GET /ready': { target: () => ({ path: '/ready' }), expect: PUBLIC(200) },
  'GET /docs': { target: () => ({ path: '/docs' }), expect: PUBLIC(200) },
  'HEAD /docs/': { target: () => ({ path: '/docs/' }), expect: PUBLIC(200) },
  'GET /docs/json': { target: () => ({ path: '/docs/json' }), expect: PUBLIC(200) },
  'GET /docs/yaml': { target: () => ({ path: '/docs/yaml' }), expect: PUBLIC(200) },
  'GET /docs/static/index.html': { target: () => ({ path: '/docs/static/index.html' }), expect: PUBLIC(302) },
  'GET /docs/static/swagger-initializer.js': { target: () => ({ path: '/docs/static/swagger-initializer.js' }), expect: PUBLIC(200) },
  'GET /docs/static/*': { target: () => ({ path: '/docs/static/swagger-ui.css' }), expect: PUBLIC(200) },
  'GET /metrics': { target: () => ({ path: '/metrics' }), expect: adminOnly(200, 1) },

  // Signing in. Public routes are given bodies they refuse before any password or link is checked,
  // so that the matrix does not spend the address's allowance of failed sign-ins.
  'POST /api/auth/sign-in': { target: () => ({ path: '/api/auth/sign-in', body: {} }), expect: PUBLIC(400) },
  'POST /api/auth/invitations/accept': {
    target: () => ({ path: '/api/auth/invitations/accept', body: { token: 'not-a-link', password: 'short' } }),
    expect: PUBLIC(400),
  },
  // A live link, so that no call counts as a wrong guess; looking does not use it.
  'GET /api/auth/invitations/:token': {
    target: async (_side, f) => {
      const n = f.unique()
      const body = { email: `greeted-${n}@council.example`, name: `Greeted ${n}`, grants: [{ role: 'crew', areas: [AREA.a] }] }
      const res = await f.svc.api('/api/people', { method: 'POST', body: JSON.stringify(body) })
      const { invitation } = (await res.json()) as { invitation: { url: string } }
      return { path: `/api/auth/invitations/${new URL(invitation.url).searchParams.get('invitation')}` }
    },
    expect: PUBLIC(200),
  },
  'GET /api/auth/providers': { target: () => ({ path: '/api/auth/providers' }), expect: PUBLIC(200) },
  // The fixture's issuer does not answer: starting answers 503, a callback that was never started 400.
  'GET /api/auth/oidc/start': { target: () => ({ path: '/api/auth/oidc/start' }), expect: PUBLIC(503) },
  'GET /api/auth/oidc/callback': { target: () => ({ path: '/api/auth/oidc/callback?code=x&state=y' }), expect: PUBLIC(400) },
  'GET /api/me': { target: () => ({ path: '/api/me' }), expect: everyone(200) },
  // A person's own phones and notification choices: everyone's own; an API token has neither.
  'GET /api/push/key': { target: () => ({ path: '/api/push/key' }), expect: everyone(200) },
  'GET /api/push/subscriptions': { target: () => ({ path: '/api/push/subscriptions' }), expect: everyone(200) },
  'POST /api/push/subscriptions': {
    target: () => ({ path: '/api/push/subscriptions', body: pushSubscription() }),
    expect: everyone(201),
    tokens: by(() => [403]),
  },
  'POST /api/push/unsubscribe': {
    target: () => ({ path: '/api/push/unsubscribe', body: { endpoint: 'https://8.8.8.8/push/none' } }),
    expect: everyone(200),
  },
  'GET /api/me/notifications': { target: () => ({ path: '/api/me/notifications' }), expect: everyone(200), tokens: by(() => [403]) },
  'PUT /api/me/notifications': {
    target: () => ({
      path: '/api/me/notifications',
      body: { push: true, email: false, digest: true, quietHours: { from: '22:00', to: '07:00' } },
    }),
    expect: everyone(200),
    tokens: by(() => [403]),
  },
  'POST /api/auth/sign-out': { target: () => ({ path: '/api/auth/sign-out' }), expect: everyone(204), freshCaller: {} },
  'POST /api/auth/password': {
    target: () => ({ path: '/api/auth/password', body: { current: OLD_PASSWORD, next: NEW_PASSWORD } }),
    expect: everyone(200),
    // An API token has no password to change.
    tokens: by(() => [403]),
    freshCaller: { password: OLD_PASSWORD },
  },

  // People, areas, tokens and the audit log.
  'GET /api/people': { target: () => ({ path: '/api/people' }), expect: adminOnly(200, 1) },
  // A viewer is not shown people, not even names.
  'GET /api/people/directory': { target: () => ({ path: '/api/people/directory' }), expect: by((w) => [w === 'viewer' ? 403 : 200]) },
  'GET /api/people/:id': { target: (side, f) => ({ path: `/api/people/${f.people[side]}` }), expect: adminOnly(200) },
  'POST /api/people': {
    target: (side, f) => {
      const n = f.unique()
      return {
        path: '/api/people',
        body: { email: `invitee-${n}@council.example`, name: `Invitee ${n}`, grants: [{ role: 'crew', areas: [AREA[side]] }] },
      }
    },
    expect: adminOnly(201),
  },
  'POST /api/people/:id/invitation': {
    target: async (side, f) => ({ path: `/api/people/${await f.newPerson(side, 'invited')}/invitation` }),
    expect: adminOnly(201),
  },
  'PUT /api/people/:id/grants': {
    target: async (side, f) => ({
      path: `/api/people/${await f.newPerson(side)}/grants`,
      body: { grants: [{ role: 'viewer', areas: [AREA[side]] }] },
    }),
    expect: adminOnly(200),
  },
  'POST /api/people/:id/disable': {
    target: async (side, f) => ({ path: `/api/people/${await f.newPerson(side)}/disable` }),
    expect: adminOnly(200),
  },
  'GET /api/areas': { target: () => ({ path: '/api/areas' }), expect: everyone(200) },
  // Everyone sees the areas their grants name: area A; area B only an admin.
  'GET /api/areas/:id': {
    target: (side) => ({ path: `/api/areas/${AREA[side]}` }),
    expect: by((w) => (w === 'admin' ? [200, 200] : [200, 404])),
  },
  'PUT /api/areas/:id': [
    {
      label: 'new area',
      target: (_side, f) => {
        const n = f.unique()
        return { path: `/api/areas/area-new-${n}`, body: { name: `New ${n}`, kind: 'estate', sites: [`site-new-${n}`] } }
      },
      expect: adminOnly(201, 1),
    },
    {
      label: 'existing area',
      target: async (_side, f) => ({
        path: `/api/areas/${await f.newArea()}`,
        body: { name: 'Renamed', kind: 'round', sites: ['site-renamed'] },
      }),
      expect: adminOnly(200, 1),
    },
  ],
  'DELETE /api/areas/:id': { target: async (_side, f) => ({ path: `/api/areas/${await f.newArea()}` }), expect: adminOnly(204, 1) },
  'GET /api/tokens': { target: () => ({ path: '/api/tokens' }), expect: adminOnly(200, 1) },
  'POST /api/tokens': {
    target: (side, f) => ({
      path: '/api/tokens',
      body: { name: `script ${f.unique()}`, grant: { role: 'crew', areas: [AREA[side]] }, expiresInDays: 30 },
    }),
    expect: adminOnly(201),
  },
  'POST /api/tokens/:id/revoke': {
    target: async (side, f) => ({ path: `/api/tokens/${await f.newToken(side)}/revoke` }),
    expect: adminOnly(200),
  },
  'GET /api/audit': { target: () => ({ path: '/api/audit' }), expect: adminOnly(200, 1) },
  // Open data (issue 13): the switch is the administrator's; the matrix withdraws, so the public formats stay 404 throughout.
  'GET /api/open-data/datasets': { target: () => ({ path: '/api/open-data/datasets' }), expect: adminOnly(200, 1) },
  'PUT /api/open-data/datasets/:id': {
    target: () => ({ path: '/api/open-data/datasets/bin-fill-latest', body: { published: false } }),
    expect: adminOnly(200, 1),
  },
  // Webhooks and the delivery log (issue 14): the administrator's. A public address (no DNS, never sent to: no event type it
  // names is produced), and deliveries made straight in the store for a target with no subscription.
  'GET /api/webhooks': { target: () => ({ path: '/api/webhooks' }), expect: adminOnly(200, 1) },
  'POST /api/webhooks': { target: () => ({ path: '/api/webhooks', body: MATRIX_WEBHOOK }), expect: adminOnly(201, 1) },
  'GET /api/webhooks/:id': { target: async (_side, f) => ({ path: `/api/webhooks/${await newWebhook(f)}` }), expect: adminOnly(200, 1) },
  'POST /api/webhooks/:id/rotate-secret': {
    target: async (_side, f) => ({ path: `/api/webhooks/${await newWebhook(f)}/rotate-secret`, body: { overlapHours: 1 } }),
    expect: adminOnly(200, 1),
  },
  'DELETE /api/webhooks/:id': { target: async (_side, f) => ({ path: `/api/webhooks/${await newWebhook(f)}` }), expect: adminOnly(204, 1) },
  'GET /api/deliveries': { target: () => ({ path: '/api/deliveries?state=dead' }), expect: adminOnly(200, 1) },
  'GET /api/deliveries/:id': {
    target: async (_side, f) => ({ path: `/api/deliveries/${await deadDelivery(f)}` }),
    expect: adminOnly(200, 1),
  },
  'POST /api/deliveries/:id/replay': {
    target: async (_side, f) => ({ path: `/api/deliveries/${await deadDelivery(f)}/replay` }),
    expect: adminOnly(200, 1),
  },
  'GET /open': { target: () => ({ path: '/open' }), expect: PUBLIC(200) },
  'GET /open/bin-fill-latest.csv': { target: () => ({ path: '/open/bin-fill-latest.csv' }), expect: PUBLIC(404) },
  'GET /open/bin-fill-latest.geojson': { target: () => ({ path: '/open/bin-fill-latest.geojson' }), expect: PUBLIC(404) },
  'GET /open/bin-fill-latest.jsonld': { target: () => ({ path: '/open/bin-fill-latest.jsonld' }), expect: PUBLIC(404) },
  'GET /open/service-health.csv': { target: () => ({ path: '/open/service-health.csv' }), expect: PUBLIC(404) },
  'GET /open/bin-fill-daily.csv': { target: () => ({ path: '/open/bin-fill-daily.csv' }), expect: PUBLIC(404) },
  'GET /open/bin-fill-daily.geojson': { target: () => ({ path: '/open/bin-fill-daily.geojson' }), expect: PUBLIC(404) },
  'GET /open/energy-half-hourly.csv': { target: () => ({ path: '/open/energy-half-hourly.csv' }), expect: PUBLIC(404) },
  'GET /open/energy-half-hourly.geojson': { target: () => ({ path: '/open/energy-half-hourly.geojson' }), expect: PUBLIC(404) },
  'GET /open/energy-half-hourly.jsonld': { target: () => ({ path: '/open/energy-half-hourly.jsonld' }), expect: PUBLIC(404) },
  'GET /open/energy-daily.csv': { target: () => ({ path: '/open/energy-daily.csv' }), expect: PUBLIC(404) },
  'GET /open/energy-daily.geojson': { target: () => ({ path: '/open/energy-daily.geojson' }), expect: PUBLIC(404) },
  'GET /open/energy-daily.jsonld': { target: () => ({ path: '/open/energy-daily.jsonld' }), expect: PUBLIC(404) },
  'GET /open/service-readings-daily.csv': { target: () => ({ path: '/open/service-readings-daily.csv' }), expect: PUBLIC(404) },
  'GET /open/page.css': { target: () => ({ path: '/open/page.css' }), expect: PUBLIC(200) },

  // The Things Stack in (issue 14): the webhook takes only an application's own secret, never a person's or API token.
  'POST /integrations/tts/uplink': { target: () => ({ path: '/integrations/tts/uplink', body: {} }), expect: PUBLIC(401) },
  'GET /api/integrations/tts/applications': { target: () => ({ path: '/api/integrations/tts/applications' }), expect: adminOnly(200, 1) },
  'POST /api/integrations/tts/applications/:id/secret': {
    target: (_side, f) => ({ path: `/api/integrations/tts/applications/matrix-app-${f.unique()}/secret` }),
    expect: adminOnly(201, 1),
  },
  'DELETE /api/integrations/tts/applications/:id': {
    target: async (_side, f) => {
      const id = `matrix-app-${f.unique()}`
      await f.svc.api(`/api/integrations/tts/applications/${id}/secret`, { method: 'POST' })
      return { path: `/api/integrations/tts/applications/${id}` }
    },
    expect: adminOnly(204, 1),
  },
  // Nobody answers at this address: an administrator's call gets as far as fetching, and fails there.
  'POST /api/integrations/tts/applications/:id/catch-up': {
    target: () => ({
      path: '/api/integrations/tts/applications/matrix-app/catch-up',
      body: { baseUrl: 'http://127.0.0.1:1', apiKey: 'NNSXS.MATRIX', after: '2026-11-30T00:00:00Z' },
    }),
    expect: adminOnly(503, 1),
  },
  'GET /api/integrations/tts/mappings': { target: () => ({ path: '/api/integrations/tts/mappings' }), expect: adminOnly(200, 1) },
  'POST /api/integrations/tts/mappings': {
    target: (side, f) => ({
      path: '/api/integrations/tts/mappings',
      body: { applicationId: 'matrix-app', ttsDeviceId: `dev-${f.unique()}`, deviceId: f.devices[side].room, decoder: 'elsys-ers' },
    }),
    expect: adminOnly(201),
  },
  'DELETE /api/integrations/tts/mappings/:key': {
    target: async (side, f) => {
      const ttsDeviceId = `dev-${f.unique()}`
      const body = { applicationId: 'matrix-app', ttsDeviceId, deviceId: f.devices[side].room, decoder: 'elsys-ers' }
      await f.svc.api('/api/integrations/tts/mappings', { method: 'POST', body: JSON.stringify(body) })
      return { path: `/api/integrations/tts/mappings/dev:matrix-app:${ttsDeviceId}` }
    },
    expect: adminOnly(204),
  },

  // Devices.
  'GET /api/devices': { target: () => ({ path: '/api/devices' }), expect: everyone(200) },
  'POST /api/devices': {
    target: (side, f) => ({ path: '/api/devices', body: { id: `new-bin-${f.unique()}`, type: 'bin', name: 'New bin', site: SITE[side] } }),
    expect: adminOnly(201),
  },
  'GET /api/devices/:id': kinds(['bin', 'boiler', 'room', 'meter'], (k) => ({
    target: (side, f) => ({ path: `/api/devices/${f.devices[side][k]}` }),
    expect: readsKind(k),
  })),
  'DELETE /api/devices/:id': {
    target: async (side, f) => ({ path: `/api/devices/${await f.newDevice(side, 'bin')}` }),
    expect: adminOnly(204),
  },
  // Rate-limited (120 a minute): two kinds keep the matrix under it.
  'GET /api/devices/:id/readings': kinds(['bin', 'boiler'], (k) => ({
    target: (side, f) => ({ path: `/api/devices/${f.devices[side][k]}/readings` }),
    expect: readsKind(k),
  })),

  // The export of the same history as CSV: the same scope, object by object (and audited); two kinds keep the matrix under its limit.
  'GET /api/devices/:id/readings.csv': kinds(['bin', 'boiler'], (k) => ({
    target: (side, f) => ({ path: `/api/devices/${f.devices[side][k]}/readings.csv` }),
    expect: readsKind(k),
  })),

  // Alerts and incidents.
  'GET /api/alerts': { target: () => ({ path: '/api/alerts' }), expect: everyone(200) },
  'GET /api/alerts/:id': kinds(['bin', 'boiler', 'room', 'meter'], (k) => ({
    target: (side, f) => ({ path: `/api/alerts/${f.alerts[side][k]}` }),
    expect: readsKind(k),
  })),
  'GET /api/alerts/:id/history': kinds(['bin', 'boiler', 'meter'], (k) => ({
    target: (side, f) => ({ path: `/api/alerts/${f.alerts[side][k]}/history` }),
    expect: readsKind(k),
  })),
  'GET /api/alerts/:id/contractor': kinds(['bin', 'boiler', 'meter'], (k) => ({
    target: (side, f) => ({ path: `/api/alerts/${f.alerts[side][k]}/contractor` }),
    expect: readsKind(k),
  })),
  'POST /api/alerts/:id/ack': alertAction('ack', 'active', () => undefined),
  'POST /api/alerts/:id/acknowledge': alertAction('acknowledge', 'active', () => ({ comment: 'on my way' })),
  'POST /api/alerts/:id/assign': alertAction('assign', 'active', (k, side) => ({ to: `team:${TEAM[k]}@${AREA[side]}` })),
  'POST /api/alerts/:id/snooze': alertAction('snooze', 'active', () => ({ until: at(Date.now() + 3_600_000) })),
  'POST /api/alerts/:id/unsnooze': alertAction('unsnooze', 'snoozed', () => ({ note: 'back on it' })),
  'POST /api/alerts/:id/resolve': alertAction('resolve', 'active', () => ({ note: 'fixed' })),
  'POST /api/alerts/:id/reopen': alertAction('reopen', 'resolved', () => ({ note: 'not fixed after all' })),
  'GET /api/incidents': { target: () => ({ path: '/api/incidents' }), expect: everyone(200) },
  // An incident is a site's: anyone with any access to the site sees it (with the alerts of their kinds).
  'GET /api/incidents/:id': { target: (side, f) => ({ path: `/api/incidents/${f.incidents[side]}` }), expect: objectFor(WHO) },

  // Reference data.
  'GET /api/fault-codes': { target: () => ({ path: '/api/fault-codes' }), expect: everyone(200) },
  'GET /api/fault-codes/:code': { target: () => ({ path: '/api/fault-codes/EA227' }), expect: everyone(200) },

  // Rules and overrides.
  'GET /api/rules': { target: () => ({ path: '/api/rules' }), expect: everyone(200) },
  'GET /api/rules/overrides': { target: () => ({ path: '/api/rules/overrides' }), expect: adminOnly(200, 1) },
  'GET /api/rules/overrides/history': { target: () => ({ path: '/api/rules/overrides/history' }), expect: adminOnly(200, 1) },
  'PUT /api/rules/overrides/:scope/:target/:ruleId': {
    target: (side, f) => ({ path: `/api/rules/overrides/device/${f.devices[side].bin}/bin-full`, body: { params: {}, disabled: false } }),
    expect: adminOnly(200),
  },
  'DELETE /api/rules/overrides/:scope/:target/:ruleId': {
    target: async (side, f) => {
      const path = `/api/rules/overrides/device/${await f.newDevice(side, 'meter')}/meter-demand-high`
      const set = await f.svc.api(path, { method: 'PUT', body: JSON.stringify({ params: {}, disabled: true }) })
      if (set.status !== 200) throw new Error(`override not set: ${set.status} ${await set.text()}`)
      return { path }
    },
    expect: adminOnly(200),
  },
  'GET /api/rules/effective/:deviceId': kinds(['bin', 'boiler', 'meter'], (k) => ({
    target: (side, f) => ({ path: `/api/rules/effective/${f.devices[side][k]}` }),
    expect: readsKind(k),
  })),

  // Rounds, bins' schedules and collections: waste data.
  'GET /api/rounds': { target: () => ({ path: '/api/rounds' }), expect: listing(['crew', 'viewer']) },
  'POST /api/rounds': {
    target: (side, f) => ({
      path: '/api/rounds',
      body: { id: `round-new-${f.unique()}`, name: 'New round', site: SITE[side], schedule: { weekdays: [1] } },
    }),
    expect: adminOnly(201),
  },
  'GET /api/rounds/:id': { target: (side, f) => ({ path: `/api/rounds/${f.rounds[side]}` }), expect: objectFor(['crew', 'viewer']) },
  'PUT /api/rounds/:id': {
    target: (side, f) => ({
      path: `/api/rounds/${f.rounds[side]}`,
      body: { name: `Round ${side}`, site: SITE[side], schedule: { weekdays: [2, 5], time: '07:00' } },
    }),
    expect: adminOnly(200),
  },
  'DELETE /api/rounds/:id': { target: async (side, f) => ({ path: `/api/rounds/${await f.newRound(side)}` }), expect: adminOnly(204) },
  'PUT /api/rounds/:id/bins': {
    target: (side, f) => ({ path: `/api/rounds/${f.rounds[side]}/bins`, body: { deviceIds: [f.devices[side].bin] } }),
    expect: adminOnly(200),
  },
  'GET /api/bins/:deviceId/schedule': {
    target: (side, f) => ({ path: `/api/bins/${f.devices[side].bin}/schedule` }),
    expect: objectFor(['crew', 'viewer']),
  },
  'PUT /api/bins/:deviceId/schedule': {
    target: (side, f) => ({ path: `/api/bins/${f.devices[side].bin}/schedule`, body: { weekdays: [3], time: '08:00' } }),
    expect: adminOnly(200),
  },
  'DELETE /api/bins/:deviceId/schedule': {
    target: async (side, f) => {
      const path = `/api/bins/${await f.newDevice(side, 'bin')}/schedule`
      const set = await f.svc.api(path, { method: 'PUT', body: JSON.stringify({ weekdays: [4] }) })
      if (set.status !== 200) throw new Error(`schedule not set: ${set.status} ${await set.text()}`)
      return { path }
    },
    expect: adminOnly(204),
  },
  'GET /api/bins/:deviceId/outlook': {
    target: (side, f) => ({ path: `/api/bins/${f.devices[side].bin}/outlook` }),
    expect: objectFor(['crew', 'viewer']),
  },
  // Each mark at a time of its own: marks within an hour of another count once (409).
  'POST /api/bins/:deviceId/collections': {
    target: (side, f) => ({
      path: `/api/bins/${f.devices[side].bin}/collections`,
      body: { at: at(Date.now() - f.unique() * 2 * 3_600_000) },
    }),
    expect: objectFor(['crew'], 201),
  },
  'GET /api/collections': { target: () => ({ path: '/api/collections' }), expect: listing(['crew', 'viewer']) },
  'GET /api/collections/summary': { target: () => ({ path: '/api/collections/summary' }), expect: listing(['crew', 'viewer']) },
  // The crew's list of today's bins: filtered to the caller's areas.
  // The energy manager's buildings: energy data (viewers read it too).
  'GET /api/energy/buildings': { target: () => ({ path: '/api/energy/buildings' }), expect: listing(['energy', 'viewer']) },
  'GET /api/energy/buildings/:deviceId': {
    target: (side, f) => ({ path: `/api/energy/buildings/${f.devices[side].meter}` }),
    expect: objectFor(['energy', 'viewer']),
  },
  'GET /api/crew/today': { target: () => ({ path: '/api/crew/today' }), expect: listing(['crew', 'viewer']) },

  // Awaab's Law cases: housing data.
  'POST /api/cases': {
    target: (side, f) => ({
      path: '/api/cases',
      body: { deviceId: f.devices[side].boiler, category: 'significant', hazard: 'damp-mould' },
    }),
    expect: objectFor(['housing'], 201),
  },
  'GET /api/cases': { target: () => ({ path: '/api/cases' }), expect: listing(['housing']) },
  'GET /api/cases/:id': { target: (side, f) => ({ path: `/api/cases/${f.cases[side]}` }), expect: objectFor(['housing']) },
  'POST /api/cases/:id/steps': {
    target: async (side, f) => ({ path: `/api/cases/${await f.newCase(side)}/steps`, body: { step: 'investigated' } }),
    expect: objectFor(['housing']),
  },
  'POST /api/cases/:id/state': {
    target: async (side, f) => ({ path: `/api/cases/${await f.newCase(side)}/state`, body: { to: 'cancelled', note: 'reported twice' } }),
    expect: objectFor(['housing']),
  },
  'POST /api/cases/:id/notes': {
    target: (side, f) => ({ path: `/api/cases/${f.cases[side]}/notes`, body: { note: 'visited, damp behind the wardrobe' } }),
    expect: objectFor(['housing'], 201),
  },

  // Quarantine: administrators (replay is rate-limited to 10 a minute; three admin callers use 3).
  'GET /api/quarantine': { target: () => ({ path: '/api/quarantine' }), expect: adminOnly(200, 1) },
  'GET /api/quarantine/summary': { target: () => ({ path: '/api/quarantine/summary' }), expect: adminOnly(200, 1) },
  'POST /api/quarantine/replay': { target: () => ({ path: '/api/quarantine/replay', body: {} }), expect: adminOnly(200, 1) },

  // The web app: the shell at / and each built file, public to everyone alike (they carry no data; the API they call checks).
  ...webApp(),
}

/**
 * The web app's routes: the static plugin registers one per file of the build (and / for the shell),
 * so the entries are named from the build the service serves, whose asset names carry content
 * hashes. Only files the build is known to make are given one: the shell, what Vite copies from
 * dashboards/web/public (public by being put there) and its hashed bundles in assets/. Anything else
 * served from the web root, and any route of another static root, has no entry and fails the
 * coverage test. Empty when the app is not built: beforeAll then says so.
 */
function webApp(): Record<string, Case> {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) return {}
  const filesUnder = (root: string) =>
    readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => relative(root, join(d.parentPath, d.name)).split(sep).join('/'))
  const copied = new Set(filesUnder(join(WEB_ROOT, '..', 'public')))
  const known = (file: string) => file === 'index.html' || copied.has(file) || /^assets\/[\w.-]+\.(js|css|svg|png|webp|woff2?)$/.test(file)
  const entries: Record<string, Case> = { 'GET /': { label: 'app shell', target: () => ({ path: '/' }), expect: PUBLIC(200) } }
  for (const file of filesUnder(WEB_ROOT).filter(known))
    entries[`GET /${file}`] = { target: () => ({ path: `/${file}` }), expect: PUBLIC(200) }
  return entries
}

const list = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? v : [v as T])
const casesOf = (key: string) => list(MATRIX[key]!)
const isPublic = (e: Expect): e is { public: S } => 'public' in e
const sidesOf = (e: Expect): Side[] => (isPublic(e) || e.admin.length === 1 ? ['a'] : ['a', 'b'])

function expected(c: Case, caller: Caller, side: Side): readonly number[] {
  if (isPublic(c.expect)) return list(c.expect.public)
  if (caller.who === 'none') return [401]
  const row = (caller.via !== 'session' && c.tokens?.[caller.who]) || c.expect[caller.who]
  return list(row[side === 'a' ? 0 : 1]!)
}

/** `/api/devices/:id` as a pattern that the paths of its entry must match. */
const patternOf = (url: string) =>
  new RegExp(
    `^${url
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*$/, '.*')
      .replace(/:[A-Za-z]+/g, '[^/]+')}$`,
  )

/** The error code of a refusal; every body is read to the end, or an unread one would hold its connection open and stall the server's close. */
const errorCode = async (res: Response) => {
  const text = await res.text()
  if (res.status < 400) return ''
  try {
    return ` ${(JSON.parse(text) as { error?: { code?: string } }).error?.code ?? ''}`
  } catch {
    return ''
  }
}

describe('authorisation matrix: every route × every role × in-area and out-of-area objects', () => {
  let f: AuthzFixture

  beforeAll(async () => {
    // An issuer nobody answers at: the single sign-on routes are registered, and fail as they would with the provider down.
    // The built web app, as the browser tests serve it: its static routes are in the table too.
    requireBuiltWebApp()
    f = await startAuthzFixture(
      {
        OIDC_ISSUER: 'http://127.0.0.1:1/',
        OIDC_CLIENT_ID: 'smartplace',
        OIDC_CLIENT_SECRET: 'matrix-client-secret',
        // Web Push on, so that its routes answer as they do in use.
        VAPID_SUBJECT: 'mailto:it@council.example',
      },
      { webRoot: WEB_ROOT },
    )
  })
  afterAll(async () => {
    await f?.close()
  })

  it('holds an entry for every route the server registers, and a route for every entry', async () => {
    const table = f.svc.service.routes
    // Fastify's own table, as it registered each route (collectRoutes): a route added without an entry fails here.
    expect(table.length).toBeGreaterThan(80)
    // The web app is served (its shell and its script), so its routes are held to entries like any other.
    for (const url of ['/', '/index.html', '/sw.js'])
      expect(
        table.some((r) => r.method === 'GET' && r.url === url),
        url,
      ).toBe(true)
    expect(table.filter((r) => r.method === 'GET' && r.url.startsWith('/assets/')).length).toBeGreaterThan(0)
    const problems: string[] = []
    const registered = new Set(table.map((r) => `${r.method} ${r.url}`))
    // A HEAD route Fastify adds beside a GET is tried with the GET's entry.
    const covered = (k: string) => k in MATRIX || (k.startsWith('HEAD ') && `GET ${k.slice(5)}` in MATRIX)
    for (const k of registered) if (!covered(k)) problems.push(`add an entry for ${k}`)
    for (const k of Object.keys(MATRIX)) if (!registered.has(k)) problems.push(`no route for the entry ${k}`)
    // The table's public routes are exactly those the routes declare public (or, outside /api, declare nothing).
    for (const r of table) {
      const e = MATRIX[`${r.method} ${r.url}`] ?? MATRIX[`GET ${r.url}`]
      if (!e) continue
      const declaredPublic = r.access === 'public' || (r.access === undefined && !r.url.startsWith('/api'))
      if (list(e).some((c) => isPublic(c.expect)) !== declaredPublic)
        problems.push(`${r.method} ${r.url} declares access ${JSON.stringify(r.access)} but its entry says otherwise`)
    }
    expect(problems).toEqual([])
  })

  it('gives each entry paths of its own route and one shape of row for every role', async () => {
    const problems: string[] = []
    for (const key of Object.keys(MATRIX)) {
      const url = key.slice(key.indexOf(' ') + 1)
      for (const c of casesOf(key)) {
        if (!isPublic(c.expect)) {
          const lengths = new Set(WHO.map((w) => (c.expect as Record<Who, Row>)[w].length))
          if (lengths.size !== 1) problems.push(`${key}: rows of different lengths`)
        }
        // Targets that make objects are made here too: cheap, and a broken one fails here first.
        for (const side of sidesOf(c.expect)) {
          const { path } = await c.target(side, f)
          if (!patternOf(url).test(path.split('?')[0]!)) problems.push(`${key}: ${path} is not a path of this route`)
        }
      }
    }
    expect(problems).toEqual([])
  })

  for (const key of Object.keys(MATRIX)) {
    it(key, async () => {
      const method = key.slice(0, key.indexOf(' '))
      const problems: string[] = []
      for (const c of casesOf(key)) {
        for (const side of sidesOf(c.expect)) {
          // The callers at once: each has its own target when the route changes it.
          await Promise.all(
            f.callers.map(async (base) => {
              const fresh = c.freshCaller && (base.via === 'session' || base.via === 'token')
              const caller = fresh ? await f.newCaller(base.who as Who, base.via as 'session' | 'token', c.freshCaller) : base
              const want = expected(c, base, side)
              const t = await c.target(side, f)
              // A HEAD beside a GET must refuse exactly as the GET does.
              for (const m of method === 'GET' ? ['GET', 'HEAD'] : [method]) {
                const res = await call(f.svc, caller, m, t.path, m === 'HEAD' ? undefined : t.body)
                const code = await errorCode(res)
                if (!want.includes(res.status)) {
                  const what = [c.label, `area ${side.toUpperCase()}`].filter(Boolean).join(', ')
                  problems.push(`${m} ${t.path} (${what}) as ${base.name}: ${res.status}${code}, expected ${want.join(' or ')}`)
                }
              }
            }),
          )
        }
      }
      expect(problems.sort()).toEqual([])
    })
  }
})

describe('collectRoutes', () => {
  it('records every route as Fastify registers it, with its HEAD twin and its declared access', async () => {
    const app = Fastify()
    const routes = collectRoutes(app)
    app.get('/api/things/:id', { config: { access: { data: ['waste'] } } }, async () => ({}))
    await app.register(async (child) => {
      child.route({ method: ['POST', 'PUT'], url: '/api/things', config: { access: 'admin' }, handler: async () => ({}) })
    })
    app.get('/health', async () => ({}))
    await app.ready()
    expect(app.routeTable).toBe(routes)
    expect(routes.map((r) => [r.method, r.url, r.access])).toEqual([
      ['GET', '/api/things/:id', { data: ['waste'] }],
      ['HEAD', '/api/things/:id', { data: ['waste'] }],
      ['POST', '/api/things', 'admin'],
      ['PUT', '/api/things', 'admin'],
      ['GET', '/health', undefined],
      ['HEAD', '/health', undefined],
    ])
    await app.close()
  })
})
