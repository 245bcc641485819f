import type { QuarantineEntry, QuarantineSummary } from '#devices'
import type { AdminPage } from './admin.ts'
import { button, call, el, london } from './admin-dom.ts'
import { endedBy, failure, say } from './view.ts'

interface Replayed {
  replayed: number
  accepted: number
  rejected: number
  skipped: number
}

const LISTED = 100
const PAYLOAD_SHOWN = 600

/** The raw payload as text when it is text; bytes that are not UTF-8 are shown as such. */
function payloadText(b64: string): string {
  try {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    return text.length > PAYLOAD_SHOWN ? `${text.slice(0, PAYLOAD_SHOWN)}… (${text.length} characters in all)` : text
  } catch {
    return `(${Math.ceil((b64.length * 3) / 4)} bytes that are not text)`
  }
}

const replayWords = (r: Replayed) =>
  r.replayed === 0
    ? 'Nothing to replay.'
    : `Replayed ${r.replayed}: ${r.accepted} accepted and ingested, ${r.rejected} refused again (kept with the new reason), ${r.skipped} skipped.`

/** Quarantine: counts by reason, the newest messages with why they were refused, and replay after a fix. */
export const startQuarantine: AdminPage = async (ctx, message) => {
  const summaryH = el('h3', { text: 'By reason', attrs: { id: 'admin-q-sum-h' } })
  const summary = el('ul', { className: 'admin-cards', attrs: { 'aria-labelledby': 'admin-q-sum-h' } })
  const listH = el('h3', { text: 'Newest messages', attrs: { id: 'admin-q-list-h', tabindex: '-1' } })
  const list = el('ul', { className: 'admin-cards', attrs: { 'aria-labelledby': 'admin-q-list-h' } })
  const result = el('p', { attrs: { role: 'status' } })
  let total = 0

  const replay = async (body: { ids?: number[]; code?: string }, what: string) => {
    try {
      const r = await call<Replayed>(ctx, '/api/quarantine/replay', 'POST', body)
      say(result, `${what}: ${replayWords(r)}`, 'notice')
      await load()
      // The button that had focus may be gone with the reload: the list's heading takes it.
      listH.focus()
    } catch (e) {
      if (!endedBy(e, ctx.onEnded)) say(result, `${what} did not run: ${failure(e)}`)
    }
  }
  const replayAll = button('Replay every quarantined message', () => void replay({}, 'Replay of every message'))
  ctx.root.append(
    el('p', {
      className: 'hint',
      text: 'Replay validates messages again, after a device is provisioned or a schema fixed: good ones are ingested and leave the quarantine; bad ones stay, with their new reason.',
    }),
    replayAll,
    result,
    summaryH,
    summary,
    listH,
    list,
  )

  const entryCard = (q: QuarantineEntry) => {
    const from = q.deviceId ?? 'an unknown device'
    const issues = el(
      'ul',
      { className: 'admin-issues' },
      ...q.issues.map((i) => el('li', { text: i.path ? `${i.path}: ${i.message}` : i.message })),
    )
    return el(
      'li',
      { className: 'admin-card' },
      el('strong', { text: `${q.reason} (${q.code})` }),
      el('p', { text: `From ${from}${q.deviceType ? ` (${q.deviceType})` : ''}, received ${london(q.receivedAt)} on ${q.topic}` }),
      issues,
      el('p', { className: 'admin-label', text: 'Payload as received:' }),
      el('pre', { className: 'admin-payload', text: payloadText(q.payload) }),
      button(
        `Replay: message from ${from} at ${london(q.receivedAt)}`,
        () => void replay({ ids: [q.id] }, `Replay of the message from ${from}`),
        'secondary',
      ),
    )
  }

  const load = async () => {
    try {
      const [sums, entries] = await Promise.all([
        call<QuarantineSummary[]>(ctx, '/api/quarantine/summary'),
        call<QuarantineEntry[]>(ctx, `/api/quarantine?limit=${LISTED}`),
      ])
      const byCode = new Map<string, { count: number; devices: Set<string>; lastAt: string }>()
      for (const s of sums) {
        const c = byCode.get(s.code) ?? { count: 0, devices: new Set<string>(), lastAt: s.lastAt }
        c.count += s.count
        c.devices.add(s.deviceId ?? 'unknown')
        if (s.lastAt > c.lastAt) c.lastAt = s.lastAt
        byCode.set(s.code, c)
      }
      total = [...byCode.values()].reduce((n, c) => n + c.count, 0)
      summary.replaceChildren(
        ...[...byCode].map(([code, c]) =>
          el(
            'li',
            { className: 'admin-card' },
            el('strong', { text: `${code}: ${c.count} ${c.count === 1 ? 'message' : 'messages'}` }),
            el('p', { text: `From ${c.devices.size} ${c.devices.size === 1 ? 'device' : 'devices'}; latest ${london(c.lastAt)}` }),
            button(`Replay: every ${code} message`, () => void replay({ code }, `Replay of the ${code} messages`), 'secondary'),
          ),
        ),
      )
      if (!byCode.size) summary.replaceChildren(el('li', { text: 'The quarantine is empty.' }))
      list.replaceChildren(...entries.map(entryCard))
      replayAll.hidden = total === 0
      replayAll.textContent = `Replay every quarantined message (${total})`
    } catch (e) {
      if (!endedBy(e, ctx.onEnded)) say(message, `The quarantine could not load: ${failure(e)}`)
    }
  }
  await load()
  return { stop() {} }
}
