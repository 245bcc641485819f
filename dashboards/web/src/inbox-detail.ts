import type { Alert, AlertHistoryEntry, ContractorRequest } from '#devices'
import { dataClassOf } from '#devices/rights'
import { when } from './crew-words.ts'
import { buildActions } from './inbox-actions.ts'
import type { InboxApi } from './inbox-data.ts'
import {
  alertLabel,
  assigneeName,
  deviceName,
  entryWords,
  isSnoozed,
  type Names,
  personName,
  placeOf,
  SEVERITY_WORD,
  STATUS_WORD,
} from './inbox-words.ts'
import { connectLive } from './live.ts'
import { endedBy, failure, type StartedView, say, type ViewContext, viewHeader, writesClass } from './view.ts'

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text = '', cls = '') => {
  const e = document.createElement(tag)
  if (text) e.textContent = text
  if (cls) e.className = cls
  return e
}

/** The facts of an alert as a list of terms, only those the server sent. */
function facts(n: Names, a: Alert, contractor: readonly ContractorRequest[]): HTMLDListElement {
  const dl = el('dl', '', 'inbox-facts')
  const row = (term: string, value: string | null, cls = '') => {
    if (!value) return
    dl.append(el('dt', term), el('dd', value, cls))
  }
  row('Severity', SEVERITY_WORD[a.severity], `inbox-sev sev-${a.severity}`)
  row('State', STATUS_WORD[a.status])
  row('Device', `${deviceName(n, a)} (${a.deviceType})`)
  row('Place', placeOf(n, a.site))
  row('Raised', when(a.raisedAt))
  row('What the rule saw', a.text)
  if (a.acknowledgedAt) row('Acknowledged', `${when(a.acknowledgedAt)}${a.acknowledgedBy ? ` by ${personName(n, a.acknowledgedBy)}` : ''}`)
  row('Acknowledgement comment', a.acknowledgedComment)
  row('Assigned to', a.assignedTo && assigneeName(n, a.assignedTo))
  row('Snoozed until', isSnoozed(a) ? when(a.snoozedUntil ?? '') : null)
  if (a.resolvedAt) row('Resolved', `${when(a.resolvedAt)}${a.resolvedBy ? ` by ${personName(n, a.resolvedBy)}` : ''}`)
  row('How it was resolved', a.resolvedNote)
  row('Cleared by the readings', a.clearedAt && when(a.clearedAt))
  // The contractor's own status: resolving the alert here does not close their request.
  for (const c of contractor) row('Contractor', `${c.summary}${c.updatedAt ? `, updated ${when(c.updatedAt)}` : ''}`)
  return dl
}

function historyList(n: Names, entries: readonly AlertHistoryEntry[]): HTMLOListElement {
  const ol = el('ol', '', 'inbox-history')
  for (const e of entries) {
    const li = el('li')
    const time = el('time', when(e.at))
    time.dateTime = e.at
    li.append(time, ' ', el('span', entryWords(n, e)))
    if (e.note) li.append(el('q', e.note, 'inbox-note'))
    ol.append(li)
  }
  return ol
}

/** One alert's page: its facts, what the caller may do to it, and its whole history, kept current live. */
export async function startDetail(ctx: ViewContext, api: InboxApi, n: Names, id: string): Promise<StartedView> {
  const back = el('a', 'Back to all alerts', 'inbox-back')
  back.href = '#alerts'
  const { heading, message } = viewHeader(ctx.root, 'Alert')
  message.tabIndex = -1
  ctx.root.prepend(back)
  const factsBox = el('div')
  const actionsBox = el('section', '', 'inbox-actions')
  actionsBox.setAttribute('aria-labelledby', 'inbox-actions-h')
  actionsBox.hidden = true
  const historyBox = el('section')
  historyBox.setAttribute('aria-labelledby', 'inbox-history-h')
  ctx.root.append(factsBox, actionsBox, historyBox)

  let alert: Alert | null = null
  let contractor: readonly ContractorRequest[] = []
  let actions: ReturnType<typeof buildActions> | null = null
  const show = (a: Alert, entries: readonly AlertHistoryEntry[] | null) => {
    alert = a
    heading.textContent = alertLabel(n, a)
    factsBox.replaceChildren(facts(n, a, contractor))
    const c = dataClassOf(a.deviceType)
    // A role that cannot act on this class (a viewer, crew on a meter) is shown no forms at all.
    if (c && writesClass(ctx.me, c)) {
      if (!actions) {
        actions = buildActions(a, n, api, { done, refused })
        const h = el('h3', 'What you can do')
        h.id = 'inbox-actions-h'
        actionsBox.replaceChildren(h, ...actions.forms)
      }
      actions.update(a)
      actionsBox.hidden = false
    }
    if (entries) {
      const h = el('h3', 'History, oldest first')
      h.id = 'inbox-history-h'
      historyBox.replaceChildren(h, historyList(n, entries))
    }
  }

  let asked = 0
  const refresh = async () => {
    const mine = ++asked
    try {
      const [a, entries, withContractor] = await Promise.all([api.alert(id), api.history(id), api.contractor(id)])
      if (mine !== asked) return
      contractor = withContractor
      show(a, entries)
      live.touch()
    } catch (e) {
      if (!endedBy(e, ctx.onEnded)) say(message, `This alert could not be loaded: ${failure(e)}`)
    }
  }
  /** After an action: say what happened, then show the alert as the server now has it. */
  async function done(what: string, a?: Alert) {
    if (a) show(a, null)
    say(message, what, 'notice')
    message.focus()
    await refresh()
  }
  function refused(e: unknown) {
    if (endedBy(e, ctx.onEnded)) return
    say(message, failure(e))
    message.focus()
  }

  const live = connectLive(ctx.credentials, { onEnded: ctx.onEnded, onBack: () => void refresh() })
  const mayConcern = (a: Alert) => {
    if (a.id === id) void refresh()
  }
  live.socket.on('alert:raised', mayConcern)
  live.socket.on('alert:cleared', mayConcern)
  live.socket.on('alert:changed', (c) => mayConcern(c.alert))

  await refresh()
  // The contractor's status changes by polling on the server, with no live event: look again each minute while it is open.
  const contractorTimer = setInterval(() => {
    if (contractor.some((c) => c.status !== 'closed')) void refresh()
  }, 60_000)
  if (!alert) heading.textContent = 'Alert not found'
  // Arriving from a link in the list, whose section was emptied: keyboard and screen reader start at the alert.
  if (!document.activeElement || document.activeElement === document.body) heading.focus()
  return {
    stop: () => {
      clearInterval(contractorTimer)
      live.stop()
    },
  }
}
