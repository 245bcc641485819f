import type { Alert, AlertChanged, CaseDetail, CaseView, HazardCategory } from '#devices'
import type { DeviceWithState } from './api.ts'
import { when } from './crew-words.ts'
import type { HousingApi } from './housing-data.ts'
import { section } from './housing-home-now.ts'
import { DAMP_RULE } from './housing-words.ts'
import { STATUS_WORD } from './inbox-words.ts'
import { endedBy, failure, say } from './view.ts'

/** How an alert is usually triaged into a case; the officer can change the category before opening it. */
function triageOf(a: Alert): { hazard: string; category: HazardCategory } {
  if (a.ruleId === DAMP_RULE) return { hazard: 'damp-mould', category: 'significant' }
  if (a.ruleId === 'boiler-no-heat') return { hazard: 'excess-cold', category: 'emergency' }
  if (a.deviceType === 'boiler') return { hazard: 'excess-cold', category: 'significant' }
  return { hazard: a.ruleId, category: 'significant' }
}

interface AlertsDeps {
  api: HousingApi
  homeName: string
  devices: readonly DeviceWithState[]
  canWrite: boolean
  message: HTMLElement
  onEnded: Parameters<typeof endedBy>[1]
  /** After an action: fetch the alerts and cases again. */
  changed(): Promise<void>
}

/** The home's alerts, newest first, open and closed, with acknowledge (with a comment) and open-a-case actions. */
export function createAlerts(deps: AlertsDeps) {
  const el = section('Alert history', 'home-alerts')
  const list = document.createElement('ul')
  list.className = 'alert-history'
  list.id = 'alert-history'
  el.append(list)
  const deviceName = (id: string) => deps.devices.find((d) => d.id === id)?.name ?? id
  // Two room sensors can raise the same alert in one home: the action then names the room, so no two buttons read alike.
  const where = (a: { deviceId: string; deviceType: string }) =>
    deps.devices.filter((d) => d.type === a.deviceType).length > 1 ? deviceName(a.deviceId) : deps.homeName
  /** After an action the list is drawn again; focus goes to the alert acted on. */
  let focusAfter: string | null = null

  const act = async (form: HTMLFormElement, work: () => Promise<string>) => {
    const button = form.querySelector('button')
    if (button) button.disabled = true
    try {
      const done = await work()
      say(deps.message, done, 'notice')
      await deps.changed()
    } catch (e) {
      focusAfter = null
      if (!endedBy(e, deps.onEnded)) say(deps.message, `That did not work: ${failure(e)}`)
    } finally {
      if (button) button.disabled = false
    }
  }

  const ackForm = (a: Alert) => {
    const form = document.createElement('form')
    form.className = 'alert-action'
    const id = `ack-${a.id}`
    const label = document.createElement('label')
    label.htmlFor = id
    label.textContent = `Comment for ${a.title}, ${where(a)} (optional)`
    const text = document.createElement('textarea')
    text.id = id
    text.rows = 2
    text.maxLength = 1000
    const button = document.createElement('button')
    button.type = 'submit'
    button.textContent = `Acknowledge: ${a.title}, ${where(a)}`
    form.append(label, text, button)
    form.addEventListener('submit', (ev) => {
      ev.preventDefault()
      const comment = text.value.trim()
      focusAfter = a.id
      void act(form, async () => {
        await deps.api.post<AlertChanged>(`/api/alerts/${encodeURIComponent(a.id)}/acknowledge`, comment ? { comment } : {})
        return `Acknowledged: ${a.title}, ${deps.homeName}.`
      })
    })
    return form
  }

  const caseForm = (a: Alert) => {
    const t = triageOf(a)
    const form = document.createElement('form')
    form.className = 'alert-action'
    const id = `category-${a.id}`
    const label = document.createElement('label')
    label.htmlFor = id
    label.textContent = `Awaab's Law category for ${a.title}`
    const select = document.createElement('select')
    select.id = id
    for (const [value, words] of [
      ['significant', 'Significant: investigate within 10 working days'],
      ['emergency', 'Emergency: investigate and make safe within 24 hours'],
    ] as const) {
      const o = document.createElement('option')
      o.value = value
      o.textContent = words
      o.selected = value === t.category
      select.append(o)
    }
    const button = document.createElement('button')
    button.type = 'submit'
    button.textContent = `Open a case: ${a.title}, ${where(a)}`
    form.append(label, select, button)
    form.addEventListener('submit', (ev) => {
      ev.preventDefault()
      focusAfter = a.id
      void act(form, async () => {
        await deps.api.post<CaseDetail>('/api/cases', { alertId: a.id, category: select.value, hazard: t.hazard })
        return `Case opened: ${a.title}, ${deps.homeName}.`
      })
    })
    return form
  }

  const item = (a: Alert, cases: readonly CaseView[]) => {
    const li = document.createElement('li')
    li.className = `alert ${a.severity} ${a.status}`
    li.dataset.alertId = a.id
    li.dataset.status = a.status
    const h = document.createElement('h4')
    h.tabIndex = -1
    h.textContent = `${a.title}${a.severity === 'critical' ? ' (critical)' : ''}`
    const status = document.createElement('p')
    status.className = 'alert-status'
    let words = STATUS_WORD[a.status]
    if (a.acknowledgedAt)
      words += `. Acknowledged at ${when(a.acknowledgedAt)}${a.acknowledgedComment ? `: “${a.acknowledgedComment}”` : ''}`
    if (a.status === 'resolved' && a.resolvedAt) words += ` at ${when(a.resolvedAt)}${a.resolvedNote ? `: “${a.resolvedNote}”` : ''}`
    if (a.status === 'cleared' && a.clearedAt) words += ` at ${when(a.clearedAt)}`
    status.textContent = `${words}.`
    const raised = document.createElement('p')
    raised.textContent = `Raised ${when(a.raisedAt)} by the ${deviceName(a.deviceId)}.${a.text ? ` ${a.text}` : ''}`
    li.append(h, status, raised)
    const open = a.status === 'active' || a.status === 'acknowledged'
    const hasCase = cases.find((c) => c.alertId === a.id && c.state !== 'closed' && c.state !== 'cancelled')
    if (hasCase) li.append(Object.assign(document.createElement('p'), { className: 'alert-case', textContent: `Awaab's Law case open.` }))
    if (deps.canWrite && a.status === 'active') li.append(ackForm(a))
    if (deps.canWrite && open && !hasCase) li.append(caseForm(a))
    return li
  }

  const render = (alerts: readonly Alert[], cases: readonly CaseView[]) => {
    const sorted = [...alerts].sort((x, y) => y.raisedAt.localeCompare(x.raisedAt))
    // Typing a comment must survive a live refresh: the half-written text is carried over.
    const typed = new Map<string, string>()
    for (const t of list.querySelectorAll('textarea')) if (t.value) typed.set(t.id, t.value)
    const focusedId =
      document.activeElement instanceof HTMLElement && list.contains(document.activeElement) ? document.activeElement.id : ''
    if (sorted.length === 0) {
      const li = document.createElement('li')
      li.textContent = 'No alerts for this home.'
      list.replaceChildren(li)
      return
    }
    list.replaceChildren(...sorted.map((a) => item(a, cases)))
    for (const [id, v] of typed) {
      const t = document.getElementById(id)
      if (t instanceof HTMLTextAreaElement) t.value = v
    }
    if (focusAfter) {
      list.querySelector<HTMLElement>(`li[data-alert-id="${CSS.escape(focusAfter)}"] h4`)?.focus()
      focusAfter = null
    } else if (focusedId) document.getElementById(focusedId)?.focus()
  }
  return { el, render }
}
