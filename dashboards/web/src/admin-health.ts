import type { AdminPage } from './admin.ts'
import { el } from './admin-dom.ts'
import { say } from './view.ts'

interface Ready {
  status: 'ready' | 'degraded'
  checks: Record<string, { ok: boolean; detail?: string }>
}

const EVERY_MS = 10_000
const CLOCK = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', second: '2-digit' })

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB']
/** "79404974080 bytes" → "79.4 GB": the service counts bytes, people read sizes. */
const sizes = (text: string) =>
  text.replace(/(\d+) bytes/g, (_, n: string) => {
    let v = Number(n)
    let u = 0
    while (v >= 1000 && u < UNITS.length - 1) {
      v /= 1000
      u++
    }
    return u === 0 ? `${v} bytes` : `${v.toFixed(1)} ${UNITS[u]}`
  })

/** One check in words: what it is, ok or not (a mark and a word, never colour alone), and the service's own detail. */
function describe(key: string, c: { ok: boolean; detail?: string }): { what: string; state: string; detail: string } {
  if (key === 'influxdb')
    return {
      what: 'InfluxDB (reading history)',
      state: c.ok ? 'ok' : 'degraded',
      detail: c.ok ? 'reachable, writes landing' : (c.detail ?? ''),
    }
  if (key === 'log') return { what: 'Log disk', state: c.ok ? 'ok' : 'refusing readings', detail: sizes(c.detail ?? '') }
  if (key.startsWith('reader:'))
    return {
      what: `Log reader “${key.slice('reader:'.length)}”`,
      state: c.ok ? 'keeping up' : /^behind/.test(c.detail ?? '') ? 'behind' : 'failing',
      detail: c.detail ? `lag: ${sizes(c.detail.replace(/^behind: /, ''))}` : '',
    }
  return { what: key, state: c.ok ? 'ok' : 'problem', detail: c.detail ?? '' }
}

/** /ready in words, asked again every 10 s while the page is open. Public, so it needs no credentials. */
export const startHealth: AdminPage = async (ctx, message) => {
  const summary = el('p', { className: 'admin-health-summary', attrs: { role: 'status' } })
  const list = el('ul', { className: 'admin-checks' })
  const at = el('p', { className: 'hint' })
  ctx.root.append(summary, list, at)

  const check = async () => {
    let r: Ready
    try {
      // 503 carries the same body when degraded: read it either way.
      r = (await (await fetch('/ready')).json()) as Ready
    } catch {
      say(message, 'The service could not be reached. This page tries again every 10 seconds.')
      return
    }
    say(message, '')
    const said = r.status === 'ready' ? '✓ Everything is working.' : '✗ Something needs attention: see below.'
    // A status region: read out when the state changes, not every 10 seconds.
    if (summary.textContent !== said) summary.textContent = said
    summary.className = `admin-health-summary ${r.status === 'ready' ? 'notice' : 'error'}`
    list.replaceChildren(
      ...Object.entries(r.checks).map(([key, c]) => {
        const d = describe(key, c)
        return el(
          'li',
          { className: c.ok ? 'check-ok' : 'check-bad' },
          el('strong', { text: `${c.ok ? '✓' : '✗'} ${d.what}: ${d.state}` }),
          el('span', { className: 'hint', text: d.detail }),
        )
      }),
    )
    at.textContent = `Checked at ${CLOCK.format(Date.now())} (London time); checked again every 10 seconds.`
  }
  await check()
  const timer = setInterval(() => void check(), EVERY_MS)
  return { stop: () => clearInterval(timer) }
}
