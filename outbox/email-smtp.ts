import nodemailer from 'nodemailer'
import type { SendOutcome } from '#devices'

/** What the channel hands the transport: one recipient, both parts. */
export interface OutgoingMail {
  to: string
  subject: string
  text: string
  html: string
  /** The same on every attempt of one delivery, so a mail sent twice (at least once) reads as one to mail clients. */
  messageId: string
  signal?: AbortSignal | undefined
}

export interface SmtpTransport {
  /** Resolves with the server's reply to the message (its 250 line). */
  send(mail: OutgoingMail): Promise<string>
  close(): void
}

/** Fields nodemailer puts on its errors; which are present depends on where it failed. */
interface SmtpError extends Error {
  code?: string
  command?: string
  response?: string
  responseCode?: number
  permanent?: boolean
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g
/**
 * The server's words, kept for the delivery log, but without addresses: a rejection names the
 * recipient, and the sender loop logs a dead letter's error, where no one's address may go.
 */
export const redactAddresses = (s: string) => s.replace(EMAIL, '[address]').replace(/\s+/g, ' ').trim().slice(0, 500)

/**
 * An attempt's outcome from nodemailer's error (RFC 5321 §4.2.1): a 5yz reply (but 503, a wrong
 * session state) refuses this message for good, dead with the server's words; a 4yz reply, a lost
 * or timed-out connection, is retried. A refused login is the operator's to fix, not this
 * message's fault: retried, so mail waits for the fix instead of dying.
 */
export function smtpOutcome(e: unknown): SendOutcome {
  const err = e as SmtpError
  // The reply code is said once, in front; the server's line without it.
  const said = redactAddresses(err.response ?? err.message ?? String(e)).replace(/^\d{3}[ -]/, '')
  if (err.code === 'EAUTH' || err.code === 'ENOAUTH')
    return {
      kind: 'retry',
      error: `the SMTP server refused the login in SMTP_URL: ${typeof err.responseCode === 'number' ? `SMTP ${err.responseCode}: ` : ''}${said}`,
    }
  if (typeof err.responseCode === 'number') {
    const permanent = err.permanent ?? (err.responseCode >= 500 && err.responseCode !== 503)
    const at = err.command ? ` (after ${err.command.split(' ')[0]})` : ''
    return permanent
      ? { kind: 'dead', error: `SMTP ${err.responseCode}${at}: ${said}` }
      : { kind: 'retry', error: `SMTP ${err.responseCode}${at}: ${said}` }
  }
  // No reply from the server: a message nodemailer could not build (EMESSAGE, EENVELOPE) never will be.
  if (err.code === 'EMESSAGE' || err.code === 'EENVELOPE') return { kind: 'dead', error: said }
  return { kind: 'retry', error: err.code ? `${err.code}: ${said}` : said }
}

export interface SmtpOptions {
  /** SMTP_URL: credentials in it; never logged, never in an error message (nodemailer's logger stays off). */
  url: string
  /** EMAIL_FROM. */
  from: string
  maxConnections?: number
}

/** One pooled transport for the service's lifetime: connections are reused across mails and closed with it. */
export function createSmtpTransport(o: SmtpOptions): SmtpTransport {
  const transport = nodemailer.createTransport({
    pool: true,
    url: o.url,
    maxConnections: o.maxConnections ?? 3,
    // A mail server that stops answering holds a sender slot for this long at most; the attempt is then retried.
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
    logger: false,
  })
  return {
    async send(m) {
      const info = await transport.sendMail({
        from: o.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        messageId: m.messageId,
        // RFC 3834: an automatic message, so out-of-office replies are not sent back to it.
        headers: { 'Auto-Submitted': 'auto-generated' },
        signal: m.signal,
      })
      return redactAddresses(String(info.response ?? ''))
    },
    close() {
      transport.close()
    },
  }
}
