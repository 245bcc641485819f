import type { Alert } from '#devices'
import { when } from './crew-words.ts'
import { FILTERS, type Filter, type InboxApi, LIST_LIMIT, matches, newestFirst } from './inbox-data.ts'
import { alertLabel, type Names, placeOf, SEVERITY_WORD, stateLine } from './inbox-words.ts'
import { connectLive } from './live.ts'
import { endedBy, failure, type StartedView, say, type ViewContext, viewHeader } from './view.ts'

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text = '', cls = '') => {
  const e = document.createElement(tag)
  if (text) e.textContent = text
  if (cls) e.className = cls
  return e
}

/** One alert as a card: what and where as a link to its page, then severity, place, time and state in words. */
function renderRow(li: HTMLLIElement, n: Names, a: Alert) {
  li.className = `inbox-row sev-${a.severity} status-${a.status}`
  li.dataset.alertId = a.id
  li.dataset.status = a.status
  const link = el('a', alertLabel(n, a), 'inbox-title')
  link.href = `#alerts/${encodeURIComponent(a.id)}`
  const head = el('p', '', 'inbox-head')
  head.append(el('span', SEVERITY_WORD[a.severity], `inbox-sev sev-${a.severity}`), ' ', link)
  const meta = el('p', '', 'inbox-meta')
  meta.append(el('span', placeOf(n, a.site)), ' · ', el('span', `Raised ${when(a.raisedAt)}`))
  const state = el('p', stateLine(n, a), 'inbox-state')
  li.replaceChildren(head, meta, state)
  if (a.text) li.append(el('p', a.text, 'inbox-text'))
  // Found by the text filter too, though not shown on the card.
  li.dataset.find = [a.acknowledgedComment, a.resolvedNote, a.deviceType, a.ruleId].filter(Boolean).join(' ').toLowerCase()
}

const filterOf = (path: readonly string[]): Filter => FILTERS.find((f) => f.id === path[0]) ?? FILTERS[0]

/**
 * The list: filter buttons (one server query each), a text search over what is shown, and
 * the alerts newest first. Live events update or insert a row in place, or take it out when it
 * no longer fits the filter.
 */
export async function startList(ctx: ViewContext, api: InboxApi, n: Names): Promise<StartedView> {
  const { heading, message } = viewHeader(ctx.root, 'Alerts')
  let filter = filterOf(ctx.path)
  let alerts = new Map<string, Alert>()

  const group = el('div', '', 'inbox-filters')
  group.setAttribute('role', 'group')
  group.setAttribute('aria-label', 'Show alerts that are')
  const buttons = FILTERS.map((f) => {
    const b = el('button', f.label)
    b.type = 'button'
    b.dataset.filter = f.id
    b.addEventListener('click', () => void choose(f))
    return b
  })
  group.append(...buttons)

  const find = el('div', '', 'inbox-find')
  const findLabel = el('label', 'Find an alert (name, place, state or note)')
  findLabel.htmlFor = 'inbox-find'
  const input = el('input')
  input.type = 'search'
  input.id = 'inbox-find'
  input.autocomplete = 'off'
  find.append(findLabel, input)

  const count = el('p', '', 'inbox-count')
  count.setAttribute('role', 'status')
  const list = el('ul', '', 'inbox-list')
  list.setAttribute('aria-labelledby', heading.id)
  // The server sends a page at a time; the last alert of a full page is where the next one starts.
  let oldest: Alert | null = null
  const more = el('button', 'Show older alerts', 'inbox-more')
  more.type = 'button'
  more.hidden = true
  ctx.root.append(group, find, count, list, more)

  const rowOf = (id: string) => list.querySelector<HTMLLIElement>(`li[data-alert-id="${CSS.escape(id)}"]`)
  const applySearch = () => {
    const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean)
    let shown = 0
    for (const li of list.querySelectorAll<HTMLLIElement>('li.inbox-row')) {
      const text = `${li.textContent ?? ''} ${li.dataset.find ?? ''}`.toLowerCase()
      li.hidden = !words.every((w) => text.includes(w))
      if (!li.hidden) shown++
    }
    const kind = filter.id === 'all' ? '' : `${filter.label.toLowerCase()} `
    const of = (k: number) => `${k} ${kind}${k === 1 ? 'alert' : 'alerts'}`
    // At the limit there may be older ones the server did not send: say so rather than give a total.
    const capped = oldest ? ' Older ones follow with "Show older alerts".' : ''
    const next =
      alerts.size === 0
        ? `No ${kind}alerts.`
        : (words.length ? `Showing ${shown} of ${of(alerts.size)}.` : `${of(alerts.size)}, newest first.`) + capped
    // A status region is read out on every write: only when the count says something new.
    if (count.textContent !== next) count.textContent = next
  }

  /** Puts an alert where it belongs in the list, or takes it out when it no longer fits the filter. */
  const place = (a: Alert) => {
    const existing = rowOf(a.id)
    if (!matches(filter, a)) {
      existing?.remove()
      alerts.delete(a.id)
      return
    }
    alerts.set(a.id, a)
    const li = existing ?? el('li')
    renderRow(li, n, a)
    if (!existing) {
      const after = [...alerts.values()].sort(newestFirst).findIndex((x) => x.id === a.id)
      const next = [...alerts.values()].sort(newestFirst)[after + 1]
      list.insertBefore(li, next ? rowOf(next.id) : null)
    }
  }

  let asked = 0
  const load = async () => {
    const mine = ++asked
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.filter === filter.id))
    // Keeps the choice in the address for a reload or a bookmark, without restarting the view.
    // Not once the person has moved on: a late load must not rewrite another view's address.
    if (ctx.root.isConnected) history.replaceState(history.state, '', filter.id === 'open' ? '#alerts' : `#alerts/${filter.id}`)
    try {
      const got = await api.list(filter)
      if (mine !== asked) return
      oldest = got.length >= LIST_LIMIT ? got[got.length - 1]! : null
      more.hidden = oldest === null
      alerts = new Map(got.map((a) => [a.id, a]))
      list.replaceChildren(
        ...got.sort(newestFirst).map((a) => {
          const li = el('li')
          renderRow(li, n, a)
          return li
        }),
      )
      say(message, '')
      applySearch()
      live.touch()
    } catch (e) {
      if (!endedBy(e, ctx.onEnded)) say(message, `The alerts could not be loaded: ${failure(e)}`)
    }
  }
  more.addEventListener('click', () => {
    const from = oldest
    if (!from) return
    const mine = asked
    more.disabled = true
    void api
      .list(filter, from)
      .then((got) => {
        // The filter changed meanwhile: this page belongs to the old one.
        if (mine !== asked) return
        oldest = got.length >= LIST_LIMIT ? got[got.length - 1]! : null
        more.hidden = oldest === null
        for (const a of got) {
          if (alerts.has(a.id)) continue
          alerts.set(a.id, a)
          const li = el('li')
          renderRow(li, n, a)
          list.append(li)
        }
        applySearch()
        // The button may be gone (no more pages): the first of the new rows takes focus instead.
        if (more.hidden) list.querySelector<HTMLElement>(`li[data-alert-id="${CSS.escape(got[0]?.id ?? '')}"] a`)?.focus()
      })
      .catch((e: unknown) => {
        if (!endedBy(e, ctx.onEnded)) say(message, `Older alerts could not be loaded: ${failure(e)}`)
      })
      .finally(() => {
        more.disabled = false
      })
  })
  const choose = async (f: Filter) => {
    filter = f
    await load()
  }
  input.addEventListener('input', applySearch)

  const live = connectLive(ctx.credentials, { onEnded: ctx.onEnded, onBack: () => void load() })
  const changed = (a: Alert) => {
    live.touch()
    place(a)
    applySearch()
  }
  live.socket.on('alert:raised', changed)
  live.socket.on('alert:acknowledged', changed)
  live.socket.on('alert:cleared', changed)
  live.socket.on('alert:changed', (c) => changed(c.alert))

  await load()
  // Back from an alert's page (the same section, so the shell does not move focus): the list's heading takes it.
  heading.focus()
  return { stop: () => live.stop() }
}
