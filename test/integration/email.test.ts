import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Alert, type Delivery, londonOffsetMs, type NotificationPrefs } from '#devices'
import { marketAndHill } from '../helpers/crew-fleet.ts'
import { noteSecret } from '../helpers/log-capture.ts'
import { type Caller, signedInPerson } from '../helpers/people.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'
import { smtpServer, type TestSmtpServer } from '../outbox/email-smtp-server.ts'

/**
 * Acceptance 3 of issue 14 (email): a real SMTP server (`smtp-server`) on loopback and the real
 * service. A bin fire from real MQTT readings reaches the market round's crew member who chose
 * email at once, readable as plain text and HTML; the hill round's crew member gets nothing; a
 * mail held by quiet hours is dropped once the alert is acknowledged; after a restart past
 * DIGEST_HOUR, the day's digest reaches those who chose it, listing their open alert.
 */
describe('email: critical alerts at once and the daily digest, through a real SMTP server', () => {
  let smtp: TestSmtpServer
  let svc: TestService
  let env: Record<string, string>
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-email-'))
  const people: Record<'market' | 'hill' | 'quiet', Caller & { email: string }> = {} as never
  let binSecret = ''
  let fire: Alert

  /** As the person, with their session cookie (the test's admin token would take precedence over it). */
  const asPerson = (c: Caller, path: string, method: string, body: unknown) =>
    fetch(`${svc.url}${path}`, { method, headers: { ...c.headers, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const prefs = async (c: Caller, p: NotificationPrefs) => expect((await asPerson(c, '/api/me/notifications', 'PUT', p)).status).toBe(200)
  const deliveriesTo = async (target: string) => (await (await svc.api(`/api/deliveries?target=${target}`)).json()) as Delivery[]
  const hhmm = (ms: number) => new Date(ms + londonOffsetMs(ms)).toISOString().slice(11, 16)

  beforeAll(async () => {
    const pass = `relay-${randomBytes(12).toString('hex')}`
    noteSecret(pass)
    smtp = await smtpServer({ user: 'smartplace', pass })
    env = {
      MQTT_DEVICE_RATE: '0',
      SMTP_URL: smtp.url,
      EMAIL_FROM: 'Smartplace <alerts@council.example>',
      // Midnight: every start is past it, so each start makes the day's digests not made yet.
      DIGEST_HOUR: '0',
      HTTP_PUBLIC_URL: 'https://bins.council.example',
      OUTBOX_BACKOFF_FIRST_MS: '200',
    }
    svc = await startService(env, { dataDir })
    const registry = svc.service.registry
    binSecret = await marketAndHill(svc)
    const person = async (email: string, name: string, area: string) => ({
      ...(await signedInPerson(registry, [{ role: 'crew', areas: [area] }], { email, name })),
      email,
    })
    people.market = await person('morgan.crew@council.example', 'Morgan Crew', 'market-round')
    people.hill = await person('hollis.crew@council.example', 'Hollis Crew', 'hill-round')
    people.quiet = await person('quinn.crew@council.example', 'Quinn Crew', 'market-round')
    // No digests yet: this start's own catch-up (whenever the outbox thread gets to it) must make none.
    await prefs(people.market, { push: false, email: true, digest: false, quietHours: null })
    await prefs(people.hill, { push: false, email: true, digest: false, quietHours: null })
  }, 120_000)
  afterAll(async () => {
    await svc?.close()
    await smtp?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('mails a bin fire at once to the crew of its area, in text and HTML; nothing to another area; a mail held by quiet hours is dropped once acknowledged', async () => {
    // Quinn's quiet hours are this London minute: long enough to acknowledge in, short enough to see the end of.
    if (Date.now() % 60_000 > 30_000) await new Promise((r) => setTimeout(r, 60_500 - (Date.now() % 60_000)))
    const now = Date.now()
    await prefs(people.quiet, { push: false, email: true, digest: false, quietHours: { from: hhmm(now), to: hhmm(now + 60_000) } })

    const device = await connectDevice(svc.mqttUrl, 'bin-cross', binSecret)
    await device.publishAsync(
      telemetryTopic({ id: 'bin-cross', type: 'bin', site: 'market' }),
      JSON.stringify({ ts: Date.now(), readings: { fillingLevel: 0.4, temperature: 82, batteryPct: 80, tilted: false } }),
      { qos: 1 },
    )
    await device.endAsync()
    fire = await waitFor(
      async () => ((await (await svc.api('/api/alerts?deviceId=bin-cross&ruleId=bin-fire')).json()) as Alert[])[0],
      5_000,
    )

    const [got] = await waitFor(async () => smtp.to(people.market.email).length > 0 && smtp.to(people.market.email), 10_000)
    expect(got!.user).toBe('smartplace')
    expect(got!.from).toBe('alerts@council.example')
    const m = got!.mail
    expect(m.from?.value).toEqual([{ name: 'Smartplace', address: 'alerts@council.example' }])
    expect(m.subject).toMatch(/^Possible bin fire: Market Cross, market, \d\d:\d\d \w{3} \d{1,2} \w{3}$/)
    expect(m.headers.get('auto-submitted')).toBe('auto-generated')
    expect(m.text).toContain('Critical alert: Possible bin fire')
    expect(m.text).toContain('Device: Market Cross (bin-cross)')
    expect(m.text).toContain('Site: market')
    expect(m.text).toContain('Reading: 82')
    expect(m.text).toContain(`Open the alert: https://bins.council.example/#alerts/${fire.id}`)
    expect(m.html).toContain('<h1 style="font-size:24px">Critical alert: Possible bin fire</h1>')
    expect(m.html).toContain('<td>Market Cross (bin-cross)</td>')
    expect(m.html).toContain(`<a href="https://bins.council.example/#alerts/${fire.id}">Open the alert</a>`)

    // Quinn's is held, not sent: tried once, waiting for the quiet minute to end.
    const held = await waitFor(async () => (await deliveriesTo(people.quiet.id)).find((d) => d.attempts > 0), 10_000)
    expect(held).toMatchObject({ channel: 'email', state: 'pending', lastError: `quiet hours until ${hhmm(now + 60_000)}` })
    expect((await asPerson(people.market, `/api/alerts/${fire.id}/acknowledge`, 'POST', { comment: 'on our way' })).status).toBe(200)
    const mine = { to: `person:${people.market.id}` }
    expect((await asPerson(people.market, `/api/alerts/${fire.id}/assign`, 'POST', mine)).status).toBe(200)
    const dropped = await waitFor(
      async () => {
        const d = (await (await svc.api(`/api/deliveries/${held.id}`)).json()) as Delivery
        return d.state !== 'pending' && d
      },
      75_000,
      500,
    )
    expect(dropped).toMatchObject({ state: 'delivered', lastError: 'not sent: the alert was acknowledged first' })
    expect(smtp.to(people.quiet.email)).toEqual([])

    // Another round's crew: no delivery was even made.
    expect(await deliveriesTo(people.hill.id)).toEqual([])
    expect(smtp.to(people.hill.email)).toEqual([])
    expect(smtp.received).toHaveLength(1)
  }, 150_000)

  it('after a restart past DIGEST_HOUR, sends the day’s digest to those who chose it: the open alert, marked theirs, or "nothing needs you today"', async () => {
    await prefs(people.market, { push: false, email: true, digest: true, quietHours: null })
    await prefs(people.hill, { push: false, email: true, digest: true, quietHours: null })
    await svc.close()
    expect(smtp.received.filter((r) => r.mail.subject?.startsWith('Your summary'))).toEqual([])
    svc = await startService(env, { dataDir, db: svc.db, token: svc.token })
    const digestOf = (email: string) => smtp.to(email).find((r) => r.mail.subject?.startsWith('Your summary for'))
    const market = (await waitFor(async () => digestOf(people.market.email), 15_000)).mail
    expect(market.subject).toMatch(/^Your summary for \w+ \d{1,2} \w+: 1 open alert$/)
    expect(market.text).toContain('Hello Morgan Crew,')
    expect(market.text).toContain('Open alerts (1)')
    expect(market.text).toMatch(/- \[critical\] Possible bin fire · Market Cross, market · raised .* · acknowledged · assigned to you\n/)
    expect(market.text).toContain(`https://bins.council.example/#alerts/${fire.id}`)
    expect(market.text).not.toContain("Awaab's Law")
    expect(market.html).toContain('<strong>assigned to you:</strong> [critical] Possible bin fire · Market Cross, market')
    expect(market.html).toContain(`<a href="https://bins.council.example/#alerts/${fire.id}">open</a>`)

    const hill = (await waitFor(async () => digestOf(people.hill.email), 15_000)).mail
    expect(hill.subject).toMatch(/: nothing needs you today$/)
    expect(hill.text).toContain('Nothing needs you today.')
    expect(hill.html).toContain('<strong>Nothing needs you today.</strong>')
    expect(hill.text).not.toContain('Possible bin fire')

    // One digest per person and day, under an id that says so; none for a person who did not choose one.
    const digests = (await deliveriesTo(people.market.id)).filter((d) => d.eventId.startsWith('digest:'))
    expect(digests).toEqual([
      expect.objectContaining({
        eventId: expect.stringMatching(new RegExp(`^digest:${people.market.id}:\\d{4}-\\d{2}-\\d{2}$`)),
        state: 'delivered',
      }),
    ])
    expect((await deliveriesTo(people.quiet.id)).filter((d) => d.eventId.startsWith('digest:'))).toEqual([])
    expect(smtp.to(people.quiet.email)).toEqual([])
  }, 120_000)
})
