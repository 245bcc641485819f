import type { AlertEventData, DigestAlert, DigestCase, DigestContent } from '#devices'

/** A mail as the channel sends it: both parts say the same; the HTML one has every interpolated value escaped. */
export interface ComposedMail {
  subject: string
  text: string
  html: string
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)
/** A header is one line: a device name with a line break in it must not start a second header. */
const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ').trim()

const LONDON = 'Europe/London'
const longTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: LONDON,
  hour: '2-digit',
  minute: '2-digit',
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
})
const shortTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: LONDON,
  hour: '2-digit',
  minute: '2-digit',
  weekday: 'short',
  day: 'numeric',
  month: 'short',
})
const dayOnly = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' })
const partsOf = (f: Intl.DateTimeFormat, ms: number) => Object.fromEntries(f.formatToParts(ms).map((p) => [p.type, p.value]))

/** "14:05, Tuesday 1 December 2026": the order a British reader expects, whatever the platform's locale data says. */
export function londonLong(iso: string): string {
  const p = partsOf(longTime, Date.parse(iso))
  return `${p.hour}:${p.minute}, ${p.weekday} ${p.day} ${p.month} ${p.year}`
}
/** "14:05 Tue 1 Dec". */
export function londonShort(iso: string): string {
  const p = partsOf(shortTime, Date.parse(iso))
  return `${p.hour}:${p.minute} ${p.weekday} ${p.day} ${p.month}`
}
/** "Tuesday 1 December 2026" for a YYYY-MM-DD London date. */
export function longDate(date: string): string {
  const p = partsOf(dayOnly, Date.parse(`${date}T12:00:00Z`))
  return `${p.weekday} ${p.day} ${p.month} ${p.year}`
}

/** Where the alert opens: absolute with HTTP_PUBLIC_URL, else the dashboard path alone. */
export function alertLink(publicUrl: string | null, alertId: string): { href: string | null; path: string } {
  const path = `/#alerts/${encodeURIComponent(alertId)}`
  return { href: publicUrl ? `${publicUrl.replace(/\/+$/, '')}${path}` : null, path }
}

const linkText = (l: ReturnType<typeof alertLink>) => l.href ?? `${l.path} on the dashboard`
const linkHtml = (l: ReturnType<typeof alertLink>, label: string) =>
  l.href ? `<a href="${escapeHtml(l.href)}">${escapeHtml(label)}</a>` : `${escapeHtml(label)}: ${escapeHtml(l.path)} on the dashboard`

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
  `<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#0b0c0c;max-width:640px">${body}</body></html>`
const FOOT_STYLE = 'color:#505a5f;font-size:14px'

export interface AlertMailInput {
  data: AlertEventData
  deviceName: string
  /** The rule's plain-English text, when the alert is still in the store. */
  text: string | null
  publicUrl: string | null
}

/** The immediate mail of a critical alert. */
export function alertMail(i: AlertMailInput): ComposedMail {
  const { data } = i
  const link = alertLink(i.publicUrl, data.alertId)
  const when = londonLong(data.at)
  const rows: [string, string][] = [
    ['Device', `${i.deviceName} (${data.deviceId})`],
    ['Site', data.site],
    ['Raised', `${when} (London time)`],
    ...(data.value === null ? [] : ([['Reading', String(data.value)]] as [string, string][])),
  ]
  const heading = `${data.severity === 'critical' ? 'Critical alert' : 'Alert'}: ${data.title}`
  const foot =
    'You get this email because you chose critical alerts by email. Change that, or set quiet hours, in your notification settings.'
  const text = [
    heading,
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    ...(i.text ? ['', i.text] : []),
    '',
    `Open the alert: ${linkText(link)}`,
    '',
    foot,
    '',
  ].join('\n')
  const html = page(
    heading,
    `<h1 style="font-size:24px">${escapeHtml(heading)}</h1>` +
      `<table style="border-collapse:collapse">${rows
        .map(
          ([k, v]) =>
            `<tr><th scope="row" style="text-align:left;padding:2px 16px 2px 0">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`,
        )
        .join('')}</table>` +
      (i.text ? `<p>${escapeHtml(i.text)}</p>` : '') +
      `<p>${linkHtml(link, 'Open the alert')}</p>` +
      `<p style="${FOOT_STYLE}">${escapeHtml(foot)}</p>`,
  )
  return { subject: oneLine(`${data.title}: ${i.deviceName}, ${data.site}, ${londonShort(data.at)}`), text, html }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** "2 days 3 hours left", "overdue by 40 minutes". */
export function timeLeft(seconds: number): string {
  const abs = Math.abs(seconds)
  const days = Math.floor(abs / 86_400)
  const hours = Math.floor((abs % 86_400) / 3600)
  const minutes = Math.floor((abs % 3600) / 60)
  const span =
    days > 0
      ? `${plural(days, 'day')}${hours ? ` ${plural(hours, 'hour')}` : ''}`
      : hours > 0
        ? plural(hours, 'hour')
        : minutes > 0
          ? plural(minutes, 'minute')
          : 'less than a minute'
  return seconds < 0 ? `overdue by ${span}` : `${span} left`
}

const ownership = (a: DigestAlert) => (a.mine === 'person' ? 'assigned to you' : a.mine === 'team' ? 'assigned to your team' : null)
const alertLine = (a: DigestAlert) =>
  [
    `[${a.severity}] ${a.title}`,
    `${a.deviceName}, ${a.site}`,
    `raised ${londonShort(a.raisedAt)}`,
    a.status === 'acknowledged' ? 'acknowledged' : null,
  ]
    .filter(Boolean)
    .join(' · ')
const caseLine = (c: DigestCase) => {
  const next = c.next
    ? `${c.next.step.replace(/-/g, ' ')} due ${londonShort(c.next.due)}${c.next.secondsLeft === null ? '' : `, ${timeLeft(c.next.secondsLeft)}`}`
    : 'no deadline open'
  return `${c.hazard} (${c.category})${c.site ? ` at ${c.site}` : ''} · ${c.state} · ${next}${c.breached ? ' · BREACHED' : ''}`
}

export interface DigestMailInput {
  name: string
  date: string
  content: DigestContent
  publicUrl: string | null
}

/** The daily digest: open alerts (critical and newest first, the reader's own marked), and a housing officer's open cases. */
export function digestMail(i: DigestMailInput): ComposedMail {
  const { alerts, moreAlerts, cases, moreCases } = i.content
  const day = longDate(i.date)
  const alertCount = alerts.length + moreAlerts
  const caseCount = (cases?.length ?? 0) + moreCases
  const empty = alertCount === 0 && caseCount === 0
  const summary = empty
    ? 'nothing needs you today'
    : [alertCount ? plural(alertCount, 'open alert') : null, caseCount ? plural(caseCount, 'open case') : null].filter(Boolean).join(', ')
  const text: string[] = [`Hello ${i.name},`, '', `Your summary for ${day}.`, '']
  let html = `<p>Hello ${escapeHtml(i.name)},</p><p>Your summary for ${escapeHtml(day)}.</p>`
  if (empty) {
    text.push('Nothing needs you today.', '')
    html += '<p><strong>Nothing needs you today.</strong></p>'
  }
  if (!empty) {
    text.push(`Open alerts (${alertCount})`)
    html += `<h2 style="font-size:20px">Open alerts (${alertCount})</h2>`
    if (alerts.length === 0) {
      text.push('None.')
      html += '<p>None.</p>'
    } else html += '<ul>'
    for (const a of alerts) {
      const link = alertLink(i.publicUrl, a.id)
      const own = ownership(a)
      text.push(`- ${alertLine(a)}${own ? ` · ${own}` : ''}`, `  ${linkText(link)}`)
      html += `<li>${own ? `<strong>${escapeHtml(own)}:</strong> ` : ''}${escapeHtml(alertLine(a))} · ${linkHtml(link, 'open')}</li>`
    }
    if (alerts.length > 0) html += '</ul>'
    if (moreAlerts > 0) {
      text.push(`…and ${moreAlerts} more on the alerts page.`)
      html += `<p>…and ${moreAlerts} more on the alerts page.</p>`
    }
    text.push('')
  }
  if (!empty && cases) {
    text.push(`Awaab's Law cases (${caseCount})`)
    html += `<h2 style="font-size:20px">Awaab's Law cases (${caseCount})</h2>`
    if (cases.length === 0) {
      text.push('None open.')
      html += '<p>None open.</p>'
    } else {
      text.push(...cases.map((c) => `- ${caseLine(c)}`))
      html += `<ul>${cases.map((c) => `<li>${escapeHtml(caseLine(c))}</li>`).join('')}</ul>`
    }
    if (moreCases > 0) {
      text.push(`…and ${moreCases} more on the cases page.`)
      html += `<p>…and ${moreCases} more on the cases page.</p>`
    }
    text.push('')
  }
  const foot = 'You get this email because you chose a daily summary. Change that in your notification settings.'
  text.push(foot, '')
  html += `<p style="${FOOT_STYLE}">${escapeHtml(foot)}</p>`
  const subject = `Your summary for ${longDate(i.date).replace(/ \d{4}$/, '')}: ${summary}`
  return { subject: oneLine(subject), text: text.join('\n'), html: page(subject, html) }
}
