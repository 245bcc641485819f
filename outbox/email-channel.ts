import {
  type Alert,
  AlertEventData,
  type Delivery,
  type DigestContent,
  DigestPayload,
  type Grant,
  londonDate,
  type NotificationPrefs,
  quietHoursWait,
  type SendOutcome,
} from '#devices'
import { alertMail, type ComposedMail, digestMail } from './email-compose.ts'
import { createSmtpTransport, type SmtpOptions, type SmtpTransport, smtpOutcome } from './email-smtp.ts'

/** A person as mail needs them: where it goes, whom it greets, and what they may see. */
export interface EmailPerson {
  id: string
  status: string
  email: string
  name: string
  grants: readonly Grant[]
}

export interface EmailChannelOptions {
  smtp: SmtpOptions
  person(id: string): Promise<EmailPerson | undefined>
  prefs(personId: string): Promise<NotificationPrefs>
  alert(id: string): Promise<Alert | null | undefined>
  deviceName(id: string): Promise<string | undefined>
  /** What the person's digest lists, read at send time. */
  digest(person: EmailPerson, now: number): Promise<DigestContent>
  /** HTTP_PUBLIC_URL: links in mail are absolute with it. */
  publicUrl: string | null
  now?: () => number
}

/** The domain of EMAIL_FROM's address, for Message-IDs. */
export const fromDomain = (from: string) => /@([^\s<>@]+?)>?$/.exec(from.trim())?.[1] ?? 'smartplace.invalid'

/**
 * The email channel adapter (nodemailer over SMTP). Like Web Push it decides at send time whether
 * the mail is still wanted: an alert acknowledged, resolved or cleared meanwhile sends nothing; the
 * person's choice is read again; in their quiet hours an immediate mail waits until they end. A
 * digest is composed when it goes, from what is open then. Nothing is sent before start() or
 * after close(): the pooled transport lives between the two.
 */
export function createEmailChannel(o: EmailChannelOptions) {
  const now = o.now ?? Date.now
  const domain = fromDomain(o.smtp.from)
  let transport: SmtpTransport | null = null

  const deliver = async (d: Delivery, to: string, mail: ComposedMail, signal?: AbortSignal): Promise<SendOutcome> => {
    if (!transport) return { kind: 'retry', error: 'the email channel is not running' }
    try {
      await transport.send({ to, ...mail, messageId: `<sp-${d.id}.${Date.parse(d.createdAt)}@${domain}>`, signal })
      return { kind: 'delivered', status: 250 }
    } catch (e) {
      return smtpOutcome(e)
    }
  }

  async function immediate(d: Delivery, person: EmailPerson, data: AlertEventData, signal?: AbortSignal): Promise<SendOutcome> {
    const alert = await o.alert(data.alertId)
    if (alert && alert.status !== 'active') return { kind: 'skipped', reason: `the alert was ${alert.status} first` }
    const prefs = await o.prefs(person.id)
    if (!prefs.email) return { kind: 'skipped', reason: 'the person turned email alerts off' }
    const wait = quietHoursWait(prefs.quietHours, now())
    if (wait !== null) return { kind: 'retry', error: `quiet hours until ${prefs.quietHours?.to}`, afterMs: wait }
    const deviceName = (await o.deviceName(data.deviceId)) ?? data.deviceId
    const mail = alertMail({ data, deviceName, text: alert?.text ?? null, publicUrl: o.publicUrl })
    return deliver(d, person.email, mail, signal)
  }

  async function digest(d: Delivery, person: EmailPerson, p: DigestPayload, signal?: AbortSignal): Promise<SendOutcome> {
    if (p.personId !== person.id) return { kind: 'dead', error: 'a digest made for another person' }
    const prefs = await o.prefs(person.id)
    if (!prefs.digest) return { kind: 'skipped', reason: 'the person turned the daily summary off' }
    const t = now()
    // Held past its day (the mail server was down): the next day's summary says what is true then.
    if (londonDate(t) !== p.date) return { kind: 'skipped', reason: `the day of this summary (${p.date}) has passed` }
    const content = await o.digest(person, t)
    return deliver(d, person.email, digestMail({ name: person.name, date: p.date, content, publicUrl: o.publicUrl }), signal)
  }

  return {
    start() {
      transport ??= createSmtpTransport(o.smtp)
    },
    async send(d: Delivery, signal?: AbortSignal): Promise<SendOutcome> {
      const person = await o.person(d.target)
      if (person?.status !== 'active') return { kind: 'dead', error: 'the person is not an active user any more' }
      if (!person.email) return { kind: 'dead', error: 'the person has no email address' }
      let body: { data?: unknown }
      try {
        body = JSON.parse(d.payload) as { data?: unknown }
      } catch {
        return { kind: 'dead', error: 'the payload is not JSON' }
      }
      const dg = DigestPayload.safeParse(body)
      if (dg.success) return digest(d, person, dg.data, signal)
      const a = AlertEventData.safeParse(body.data)
      if (!a.success) return { kind: 'dead', error: 'neither an alert event nor a digest' }
      return immediate(d, person, a.data, signal)
    },
    /** After the email sender has closed: idle pooled connections end at once. */
    close() {
      transport?.close()
      transport = null
    },
  }
}
export type EmailChannel = ReturnType<typeof createEmailChannel>
