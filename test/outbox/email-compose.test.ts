import { describe, expect, it } from 'vitest'
import { alertLink, escapeHtml, londonLong, timeLeft } from '../../outbox/email-compose.ts'
import { redactAddresses, smtpOutcome } from '../../outbox/email-smtp.ts'

const smtpError = (over: Record<string, unknown>) => Object.assign(new Error('failed'), over)

describe('email composition and SMTP outcomes', () => {
  it('escapes every character HTML gives a meaning to', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;')
  })

  it('words times in London, summer and winter, and time left both ways', () => {
    expect(londonLong('2026-12-01T09:05:00Z')).toBe('09:05, Tuesday 1 December 2026')
    expect(londonLong('2026-06-30T23:30:00Z')).toBe('00:30, Wednesday 1 July 2026')
    expect(timeLeft(90 * 60)).toBe('1 hour left')
    expect(timeLeft(2 * 86_400 + 3600)).toBe('2 days 1 hour left')
    expect(timeLeft(-(2 * 86_400 + 60))).toBe('overdue by 2 days')
    expect(timeLeft(59)).toBe('less than a minute left')
  })

  it('links to the alert with HTTP_PUBLIC_URL, and names the dashboard path without it', () => {
    expect(alertLink('https://bins.council.example/', 'a-1')).toEqual({
      href: 'https://bins.council.example/#alerts/a-1',
      path: '/#alerts/a-1',
    })
    expect(alertLink(null, 'a-1')).toEqual({ href: null, path: '/#alerts/a-1' })
  })

  it('retries a 4yz, a 503, a lost connection and a refused login; dead-letters another 5yz and a message that cannot be built', () => {
    expect(smtpOutcome(smtpError({ responseCode: 451, response: '451 4.3.0 Try again', command: 'DATA' }))).toEqual({
      kind: 'retry',
      error: 'SMTP 451 (after DATA): 4.3.0 Try again',
    })
    // 503 is a session in the wrong state, not a refusal of the message.
    expect(smtpOutcome(smtpError({ responseCode: 503, response: '503 5.5.1 Bad sequence' }))).toMatchObject({ kind: 'retry' })
    expect(smtpOutcome(smtpError({ code: 'ETIMEDOUT', message: 'Connection timed out' }))).toEqual({
      kind: 'retry',
      error: 'ETIMEDOUT: Connection timed out',
    })
    expect(smtpOutcome(smtpError({ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Bad credentials' }))).toEqual({
      kind: 'retry',
      error: 'the SMTP server refused the login in SMTP_URL: SMTP 535: 5.7.8 Bad credentials',
    })
    expect(
      smtpOutcome(smtpError({ responseCode: 554, response: '554 5.7.1 <pat@council.example> rejected as spam', command: 'DATA' })),
    ).toEqual({
      kind: 'dead',
      error: 'SMTP 554 (after DATA): 5.7.1 <[address]> rejected as spam',
    })
    expect(smtpOutcome(smtpError({ code: 'EENVELOPE', message: 'No recipients defined' }))).toEqual({
      kind: 'dead',
      error: 'No recipients defined',
    })
    expect(redactAddresses('to a.b-c+d@mail.council.gov.uk\r\n and x@y.example')).toBe('to [address] and [address]')
  })
})
