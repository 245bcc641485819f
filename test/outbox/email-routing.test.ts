import { describe, expect, it } from 'vitest'
import { DeliveryEventType, DIGEST_EVENT_TYPE, type Grant, NewWebhook, type NotificationPrefs, type RoutedEvent } from '#devices'
import { createEmailRouting } from '../../outbox/email-routing.ts'
import { criticalAlertData } from '../helpers/alert-event.ts'

const data = (over: Record<string, unknown> = {}) => criticalAlertData('00000000-0000-4000-8000-00000000e2e2', over)
const event = (over: Record<string, unknown> = {}, type: RoutedEvent['type'] = 'alert.raised'): RoutedEvent => ({
  id: 'evt_1',
  type,
  site: 'market',
  ruleId: 'bin-fire',
  payload: { type, timestamp: data().at, data: data(over) as never },
})

describe('email routing: who is mailed a critical alert at once', () => {
  const person = (id: string, grants: Grant[], status = 'active', email = `${id}@council.example`) => ({ id, status, email, grants })
  const people = [
    person('marketCrew', [{ role: 'crew', areas: ['market-ward'] }]),
    person('hillCrew', [{ role: 'crew', areas: ['hill-ward'] }]),
    person('housing', [{ role: 'housing', areas: null }]),
    person('leaver', [{ role: 'crew', areas: null }], 'disabled'),
    person('noAddress', [{ role: 'crew', areas: null }], 'active', ''),
    person('pushOnly', [{ role: 'admin', areas: null }]),
    person('admin', [{ role: 'admin', areas: null }]),
  ]
  const prefs: Record<string, NotificationPrefs> = {
    pushOnly: { push: true, email: false, digest: true, quietHours: null },
  }
  const route = createEmailRouting({
    people: async () => people,
    prefs: async (id) => prefs[id] ?? { push: false, email: true, digest: false, quietHours: null },
    sitesByArea: async () =>
      new Map([
        ['market-ward', ['market']],
        ['hill-ward', ['hill']],
      ]),
  })

  it('mails active people with an address who chose email and may see the device at that site, each their own delivery', async () => {
    expect(await route(event())).toEqual([
      { channel: 'email', target: 'marketCrew' },
      { channel: 'email', target: 'admin' },
    ])
    expect((await route(event({ site: 'hill' }))).map((r) => r.target)).toEqual(['hillCrew', 'admin'])
    // A boiler is housing data: the crew never hear of it.
    expect((await route(event({ deviceType: 'boiler', site: 'block-a' }))).map((r) => r.target)).toEqual(['housing', 'admin'])
  })

  it('mails nothing for a warning, or for anything but a raise', async () => {
    expect(await route(event({ severity: 'warning' }))).toEqual([])
    expect(await route(event({}, 'alert.acknowledged'))).toEqual([])
    expect(await route(event({}, 'alert.reopened'))).toEqual([])
  })

  it("gives a digest's deliveries a type of their own, which no webhook can subscribe to", () => {
    expect(DeliveryEventType.parse(DIGEST_EVENT_TYPE)).toBe('digest.daily')
    const hook = { url: 'https://hooks.example/in', eventTypes: [DIGEST_EVENT_TYPE] }
    expect(NewWebhook.safeParse(hook).success).toBe(false)
    expect(NewWebhook.safeParse({ ...hook, eventTypes: ['alert.raised'] }).success).toBe(true)
  })
})
