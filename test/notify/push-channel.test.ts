import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, Delivery, Grant, PushMessage, RoutedEvent } from '#devices'
import { createPushChannel } from '../../outbox/push-channel.ts'
import { createPushRouting } from '../../outbox/push-routing.ts'
import { createTargetPolicy } from '../../outbox/ssrf.ts'
import { freePort } from '../../scripts/free-port.ts'
import { createPushStore, type PushStore } from '../../store/push-store.ts'
import { criticalAlertData } from '../helpers/alert-event.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'
import { browserSubscription, type PushService, pushService } from './push-service.ts'
import { verifyVapid } from './rfc8291.ts'

const VAPID = { publicKey: '', privateKey: '' }
const alertId = '00000000-0000-4000-8000-00000000f1e1'
const data = (over: Record<string, unknown> = {}) => criticalAlertData(alertId, over)
const delivery = (target: string): Delivery => ({
  id: 1,
  eventId: 'evt_1',
  eventType: 'alert.raised',
  channel: 'webpush',
  target,
  payload: JSON.stringify({ type: 'alert.raised', timestamp: data().at, data: data() }),
  state: 'pending',
  attempts: 0,
  createdAt: data().at,
  firstAttemptAt: null,
  lastAttemptAt: null,
  nextAttemptAt: null,
  lastError: null,
  deliveredAt: null,
})
const event = (over: Partial<Record<string, unknown>> = {}): RoutedEvent => ({
  id: 'evt_1',
  type: 'alert.raised',
  site: 'market',
  ruleId: 'bin-fire',
  payload: { type: 'alert.raised', timestamp: data().at, data: data(over) as never },
})

describe.each(STORE_ADAPTERS)('Web Push channel and routing, store on %s', (_dialect, open) => {
  const s = freshStore(open, 'sp-push-')
  let svc: PushService
  beforeAll(async () => {
    const webpush = (await import('web-push')).default
    Object.assign(VAPID, webpush.generateVAPIDKeys())
    svc = pushService(await freePort())
    await svc.listening
  })
  afterAll(() => svc?.close())

  let alertState: Alert['status'] = 'active'
  let clock = Date.parse('2026-12-01T10:00:00Z')
  const channel = (push: PushStore, allow = ['127.0.0.1']) =>
    createPushChannel({
      push,
      alert: async () => ({ status: alertState }) as Alert,
      deviceName: async () => 'Bin by the market cross',
      vapidKeys: async () => VAPID,
      subject: 'mailto:it@council.example',
      policy: createTargetPolicy(allow),
      timeoutMs: 2000,
      now: () => clock,
    })

  it('sends an encrypted, VAPID-signed message a tap on which opens the alert; records when', async () => {
    const push = createPushStore(s.store.db)
    const phone = browserSubscription(`${svc.origin}/push/a`)
    const sub = await push.subscribe('person-1', phone.json)
    alertState = 'active'
    expect(await channel(push).send(delivery(sub.id))).toEqual({ kind: 'delivered', status: 201 })
    const got = svc.received.at(-1)!
    expect(got.path).toBe('/push/a')
    expect(got.headers).toMatchObject({ ttl: '3600', urgency: 'high', 'content-encoding': 'aes128gcm' })
    const { claims, publicKey } = verifyVapid(got.headers.authorization)
    expect(publicKey).toBe(VAPID.publicKey)
    expect(claims).toMatchObject({ aud: svc.origin, sub: 'mailto:it@council.example' })
    expect(phone.decrypt(got.body)).toEqual({
      title: 'Possible bin fire',
      body: 'Bin by the market cross, market. Tap to open the alert.',
      url: `/#alerts/${alertId}`,
      alertId,
      tag: `alert-${alertId}`,
    } satisfies PushMessage)
    expect((await push.listFor('person-1'))[0]!.lastSentAt).not.toBeNull()
  })

  it('sends nothing for an alert acknowledged first, or to a person who turned push off', async () => {
    const push = createPushStore(s.store.db)
    const sub = await push.subscribe('person-2', browserSubscription(`${svc.origin}/push/b`).json)
    const before = svc.received.length
    alertState = 'acknowledged'
    expect(await channel(push).send(delivery(sub.id))).toEqual({ kind: 'skipped', reason: 'the alert was acknowledged first' })
    alertState = 'active'
    await push.setPrefs('person-2', { push: false, email: false, digest: false, quietHours: null })
    expect(await channel(push).send(delivery(sub.id))).toEqual({ kind: 'skipped', reason: 'the person turned push notifications off' })
    expect(svc.received.length).toBe(before)
  })

  it('waits out quiet hours (London time), then sends', async () => {
    const push = createPushStore(s.store.db)
    const sub = await push.subscribe('person-3', browserSubscription(`${svc.origin}/push/c`).json)
    await push.setPrefs('person-3', { push: true, email: false, digest: false, quietHours: { from: '22:00', to: '07:00' } })
    // 23:30 GMT in December is 23:30 in London: seven and a half hours to go.
    clock = Date.parse('2026-12-01T23:30:00Z')
    expect(await channel(push).send(delivery(sub.id))).toEqual({
      kind: 'retry',
      error: 'quiet hours until 07:00',
      afterMs: 7.5 * 3_600_000,
    })
    // In June London is an hour ahead: 23:30 UTC is 00:30 BST, six and a half hours to go.
    clock = Date.parse('2026-06-01T23:30:00Z')
    expect(await channel(push).send(delivery(sub.id))).toMatchObject({ kind: 'retry', afterMs: 6.5 * 3_600_000 })
    clock = Date.parse('2026-12-02T07:00:00Z')
    expect(await channel(push).send(delivery(sub.id))).toEqual({ kind: 'delivered', status: 201 })
  })

  it('drops a subscription the push service says is gone, retries when it is busy, refuses a loopback it may not reach', async () => {
    const push = createPushStore(s.store.db)
    const gone = await push.subscribe('person-4', browserSubscription(`${svc.origin}/push/gone`).json)
    svc.answer('/push/gone', 410)
    expect(await channel(push).send(delivery(gone.id))).toMatchObject({
      kind: 'dead',
      error: expect.stringMatching(/^HTTP 410: .*removed/),
    })
    expect(await push.listFor('person-4')).toEqual([])
    expect(await channel(push).send(delivery(gone.id))).toEqual({ kind: 'dead', error: 'the phone is no longer subscribed' })

    const busy = await push.subscribe('person-4', browserSubscription(`${svc.origin}/push/busy`).json)
    svc.answer('/push/busy', 429, { 'retry-after': '30' })
    expect(await channel(push).send(delivery(busy.id))).toEqual({ kind: 'retry', error: 'HTTP 429', afterMs: 30_000 })
    const before = svc.received.length
    expect(await channel(push, []).send(delivery(busy.id))).toMatchObject({ kind: 'dead', error: expect.stringMatching(/loopback/) })
    expect(svc.received.length).toBe(before)
  })

  it('routes a critical alert to the phones of active people who may see it, and nothing else', async () => {
    const push = createPushStore(s.store.db)
    const people: Record<string, { status: string; grants: Grant[] }> = {
      marketCrew: { status: 'active', grants: [{ role: 'crew', areas: ['market-ward'] }] },
      hillCrew: { status: 'active', grants: [{ role: 'crew', areas: ['hill-ward'] }] },
      housing: { status: 'active', grants: [{ role: 'housing', areas: null }] },
      leaver: { status: 'disabled', grants: [{ role: 'crew', areas: null }] },
      quiet: { status: 'active', grants: [{ role: 'admin', areas: null }] },
    }
    const subs: Record<string, string> = {}
    for (const id of Object.keys(people)) subs[id] = (await push.subscribe(id, browserSubscription(`${svc.origin}/push/r-${id}`).json)).id
    const phone2 = await push.subscribe('marketCrew', browserSubscription(`${svc.origin}/push/r-marketCrew-2`).json)
    await push.setPrefs('quiet', { push: false, email: true, digest: true, quietHours: null })
    const route = createPushRouting({
      push,
      person: async (id) => people[id],
      sitesByArea: async () =>
        new Map([
          ['market-ward', ['market']],
          ['hill-ward', ['hill']],
        ]),
    })
    const targets = (await route(event())).map((r) => r.target).sort()
    expect(targets).toEqual([subs.marketCrew!, phone2.id].sort())
    expect(await route(event({ severity: 'warning' }))).toEqual([])
    expect(await route({ ...event(), type: 'alert.acknowledged' })).toEqual([])
    expect((await route(event({ site: 'hill' }))).map((r) => r.target)).toEqual([subs.hillCrew])
  })
})
