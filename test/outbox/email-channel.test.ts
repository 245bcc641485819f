import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, Delivery, DigestContent, Grant, NotificationPrefs } from '#devices'
import { createEmailChannel, type EmailPerson } from '../../outbox/email-channel.ts'
import { freePort } from '../../scripts/free-port.ts'
import { criticalAlertData } from '../helpers/alert-event.ts'
import { smtpServer, type TestSmtpServer } from './email-smtp-server.ts'

const alertId = '00000000-0000-4000-8000-00000000e1e1'
const data = (over: Record<string, unknown> = {}) => criticalAlertData(alertId, over)
const delivery = (target: string, payload: unknown, id = 7): Delivery => ({
  id,
  eventId: 'evt_1',
  eventType: 'alert.raised',
  channel: 'email',
  target,
  payload: JSON.stringify(payload),
  ...{ state: 'pending', attempts: 0, createdAt: '2026-12-01T10:00:01.000Z' },
  ...{ firstAttemptAt: null, lastAttemptAt: null, nextAttemptAt: null, lastError: null, deliveredAt: null },
})
const raised = (over: Record<string, unknown> = {}) => ({ type: 'alert.raised', timestamp: data().at, data: data(over) })
const digestOf = (personId: string, date: string) => ({ type: 'digest', personId, date })

const crew: Grant[] = [{ role: 'crew', areas: ['market-ward'] }]
const ON: NotificationPrefs = { push: false, email: true, digest: true, quietHours: null }
const LOGIN = { user: 'smartplace', pass: 'relay pass with spaces & symbols' }

describe('email channel: what it sends, skips, retries and dead-letters', () => {
  let smtp: TestSmtpServer
  beforeAll(async () => {
    smtp = await smtpServer(LOGIN)
  })
  afterAll(() => smtp?.close())

  const people = new Map<string, EmailPerson>()
  const prefs = new Map<string, NotificationPrefs>()
  let alertState: Alert['status'] = 'active'
  let clock = Date.parse('2026-12-01T10:00:05Z')
  let digest: DigestContent = { alerts: [], moreAlerts: 0, cases: null, moreCases: 0 }
  const open: { close(): void }[] = []
  afterEach(() => {
    for (const c of open.splice(0)) c.close()
  })

  const channel = (url = smtp.url) => {
    const c = createEmailChannel({
      smtp: { url, from: 'Smartplace <alerts@council.example>' },
      person: async (id) => people.get(id),
      prefs: async (id) => prefs.get(id) ?? ON,
      alert: async () => ({ status: alertState, text: 'A temperature this high in a bin means fire.' }) as Alert,
      deviceName: async () => 'Bin <b>by</b> "the" market & cross',
      digest: async () => digest,
      publicUrl: 'https://bins.council.example/',
      now: () => clock,
    })
    c.start()
    open.push(c)
    return c
  }
  const person = (id: string, over: Partial<EmailPerson> = {}) => {
    const p: EmailPerson = { id, status: 'active', email: `${id}@council.example`, name: 'Morgan Crew', grants: crew, ...over }
    people.set(id, p)
    return p
  }

  it('mails a critical alert at once: subject with title, device, site and London time; text and HTML parts; escaped HTML', async () => {
    const p = person('morgan')
    expect(await channel().send(delivery(p.id, raised()))).toEqual({ kind: 'delivered', status: 250 })
    const [got] = smtp.to(p.email)
    expect(got).toBeDefined()
    expect(got!.user).toBe(LOGIN.user)
    expect(got!.from).toBe('alerts@council.example')
    const m = got!.mail
    expect(m.subject).toBe('Possible bin fire: Bin <b>by</b> "the" market & cross, market, 10:00 Tue 1 Dec')
    expect(m.headers.get('auto-submitted')).toBe('auto-generated')
    expect(m.messageId).toBe(`<sp-7.${Date.parse('2026-12-01T10:00:01.000Z')}@council.example>`)
    // The plain-text part says it all in words, the device's name as given.
    expect(m.text).toContain('Critical alert: Possible bin fire')
    expect(m.text).toContain('Device: Bin <b>by</b> "the" market & cross (bin-9)')
    expect(m.text).toContain('Raised: 10:00, Tuesday 1 December 2026 (London time)')
    expect(m.text).toContain('A temperature this high in a bin means fire.')
    expect(m.text).toContain(`Open the alert: https://bins.council.example/#alerts/${alertId}`)
    // The HTML part: the same facts, the name escaped (no markup of it survives), the link a real link.
    const html = String(m.html)
    expect(html).toContain('Bin &lt;b&gt;by&lt;/b&gt; &quot;the&quot; market &amp; cross (bin-9)')
    expect(html).not.toContain('<b>by</b>')
    expect(html).toContain(`<a href="https://bins.council.example/#alerts/${alertId}">Open the alert</a>`)
  })

  it('sends nothing for an alert acknowledged first, or to a person who turned email off', async () => {
    const p = person('sam')
    alertState = 'acknowledged'
    expect(await channel().send(delivery(p.id, raised()))).toEqual({ kind: 'skipped', reason: 'the alert was acknowledged first' })
    alertState = 'active'
    prefs.set(p.id, { ...ON, email: false })
    expect(await channel().send(delivery(p.id, raised()))).toEqual({ kind: 'skipped', reason: 'the person turned email alerts off' })
    expect(smtp.to(p.email)).toEqual([])
  })

  it('holds an immediate mail through quiet hours (London time) and sends it when they end', async () => {
    const p = person('quinn')
    prefs.set(p.id, { ...ON, quietHours: { from: '22:00', to: '07:00' } })
    clock = Date.parse('2026-12-01T23:30:00Z')
    expect(await channel().send(delivery(p.id, raised()))).toEqual({
      kind: 'retry',
      error: 'quiet hours until 07:00',
      afterMs: 7.5 * 3_600_000,
    })
    // British Summer Time: 23:30 UTC is 00:30 in London, six and a half hours to go.
    clock = Date.parse('2026-06-01T23:30:00Z')
    expect(await channel().send(delivery(p.id, raised()))).toMatchObject({ kind: 'retry', afterMs: 6.5 * 3_600_000 })
    expect(smtp.to(p.email)).toEqual([])
    clock = Date.parse('2026-12-02T07:00:00Z')
    expect(await channel().send(delivery(p.id, raised()))).toEqual({ kind: 'delivered', status: 250 })
    expect(smtp.to(p.email)).toHaveLength(1)
  })

  it('dead-letters mail to someone no longer active, without an address, or that is neither an alert nor a digest', async () => {
    person('left', { status: 'disabled' })
    person('blank', { email: '' })
    expect(await channel().send(delivery('left', raised()))).toEqual({ kind: 'dead', error: 'the person is not an active user any more' })
    expect(await channel().send(delivery('nobody', raised()))).toEqual({ kind: 'dead', error: 'the person is not an active user any more' })
    expect(await channel().send(delivery('blank', raised()))).toEqual({ kind: 'dead', error: 'the person has no email address' })
    person('morgan')
    expect(await channel().send(delivery('morgan', { type: 'collection.recorded', data: {} }))).toEqual({
      kind: 'dead',
      error: 'neither an alert event nor a digest',
    })
  })

  it('retries what the server refuses for now (4yz, no connection, a refused login) and dead-letters a 5yz with its words, addresses left out', async () => {
    clock = Date.parse('2026-12-01T10:00:05Z')
    const p = person('riley')
    smtp.refuse(p.email, 452, '4.2.2 Mailbox full, try later')
    expect(await channel().send(delivery(p.id, raised()))).toEqual({
      kind: 'retry',
      error: 'SMTP 452 (after RCPT): 4.2.2 Mailbox full, try later',
    })
    smtp.refuse(p.email, 550, `5.1.1 <${p.email}>: Recipient address rejected: user unknown`)
    expect(await channel().send(delivery(p.id, raised()))).toEqual({
      kind: 'dead',
      error: 'SMTP 550 (after RCPT): 5.1.1 <[address]>: Recipient address rejected: user unknown',
    })
    smtp.accept(p.email)

    const closed = await freePort()
    expect(await channel(`smtp://x:y@127.0.0.1:${closed}`).send(delivery(p.id, raised()))).toMatchObject({
      kind: 'retry',
      error: expect.stringMatching(/ECONNREFUSED|ECONNECTION|ESOCKET/),
    })
    const wrongLogin = smtp.url.replace(encodeURIComponent(LOGIN.pass), 'wrong')
    expect(await channel(wrongLogin).send(delivery(p.id, raised()))).toMatchObject({
      kind: 'retry',
      error: expect.stringMatching(/^the SMTP server refused the login in SMTP_URL: .*535/),
    })
    expect(smtp.to(p.email)).toEqual([])
  })

  it('composes a digest at send time: critical and newest first, the reader’s own marked, cases with time left, escaped', async () => {
    clock = Date.parse('2026-12-01T07:00:10Z')
    const p = person('harper', { name: 'Harper <Housing>' })
    const alert = (id: string, severity: 'critical' | 'warning', raisedAt: string, mine: 'person' | 'team' | null) => ({
      id,
      title: severity === 'critical' ? 'No heat' : 'Damp risk',
      severity,
      status: 'active' as const,
      deviceName: 'Flat 3 <boiler>',
      site: 'block-a',
      raisedAt,
      mine,
    })
    digest = {
      alerts: [alert('a-1', 'critical', '2026-11-30T20:00:00Z', 'person'), alert('a-2', 'warning', '2026-11-30T21:00:00Z', null)],
      moreAlerts: 3,
      cases: [
        {
          id: 'c-1',
          hazard: 'damp-mould',
          category: 'significant',
          site: 'block-a',
          state: 'open',
          breached: false,
          next: { step: 'investigate', due: '2026-12-04T18:00:00Z', secondsLeft: 3 * 86_400 + 4 * 3600 },
        },
      ],
      moreCases: 0,
    }
    expect(await channel().send(delivery(p.id, digestOf(p.id, '2026-12-01')))).toEqual({ kind: 'delivered', status: 250 })
    const m = smtp.to(p.email).at(-1)!.mail
    expect(m.subject).toBe('Your summary for Tuesday 1 December: 5 open alerts, 1 open case')
    expect(m.text).toContain('Hello Harper <Housing>,')
    expect(m.text).toContain('Open alerts (5)')
    expect(m.text).toMatch(
      /- \[critical\] No heat · Flat 3 <boiler>, block-a · raised 20:00 Mon 30 Nov · assigned to you\n {2}https:\/\/bins\.council\.example\/#alerts\/a-1/,
    )
    const text = m.text ?? ''
    expect(text.indexOf('[critical]')).toBeGreaterThan(0)
    expect(text.indexOf('[critical]')).toBeLessThan(text.indexOf('[warning]'))
    expect(m.text).toContain('…and 3 more on the alerts page.')
    expect(m.text).toContain("Awaab's Law cases (1)")
    expect(m.text).toContain('- damp-mould (significant) at block-a · open · investigate due 18:00 Fri 4 Dec, 3 days 4 hours left')
    const html = String(m.html)
    expect(html).toContain('Hello Harper &lt;Housing&gt;,')
    expect(html).toContain('<strong>assigned to you:</strong> [critical] No heat · Flat 3 &lt;boiler&gt;, block-a')
    expect(html).not.toContain('<boiler>')
  })

  it('says "nothing needs you today" in an empty digest; skips one turned off or of a day gone by', async () => {
    clock = Date.parse('2026-12-01T07:00:10Z')
    const p = person('ellis')
    digest = { alerts: [], moreAlerts: 0, cases: [], moreCases: 0 }
    expect(await channel().send(delivery(p.id, digestOf(p.id, '2026-12-01')))).toEqual({ kind: 'delivered', status: 250 })
    const m = smtp.to(p.email).at(-1)!.mail
    expect(m.subject).toBe('Your summary for Tuesday 1 December: nothing needs you today')
    expect(m.text).toContain('Nothing needs you today.')
    expect(String(m.html)).toContain('<strong>Nothing needs you today.</strong>')

    expect(await channel().send(delivery(p.id, digestOf(p.id, '2026-11-30')))).toEqual({
      kind: 'skipped',
      reason: 'the day of this summary (2026-11-30) has passed',
    })
    prefs.set(p.id, { ...ON, digest: false })
    expect(await channel().send(delivery(p.id, digestOf(p.id, '2026-12-01')))).toEqual({
      kind: 'skipped',
      reason: 'the person turned the daily summary off',
    })
    expect(await channel().send(delivery(p.id, digestOf('someone-else', '2026-12-01')))).toEqual({
      kind: 'dead',
      error: 'a digest made for another person',
    })
    expect(smtp.to(p.email)).toHaveLength(1)
  })
})
