import type { Alert } from '#devices'
import type { InboxApi } from './inbox-data.ts'
import { actionForm, field, type Outcome, textInput } from './inbox-form.ts'

/** The hazard as housing officers name it, from the rule that raised the alert; editable. */
const HAZARD_OF: Record<string, string> = {
  'damp-mould-risk': 'damp-mould',
  'boiler-no-heat': 'excess-cold',
  'boiler-lockout': 'excess-cold',
  'boiler-lockouts-repeated': 'excess-cold',
  'boiler-pressure-low': 'excess-cold',
  'boiler-pressure-critical': 'excess-cold',
}

const CATEGORIES = [
  ['significant', 'Significant: investigate within 10 working days'],
  ['emergency', 'Emergency: make safe within 24 hours'],
] as const

/** Opens an Awaab's Law case from a housing alert (POST /api/cases); the server keeps one open case per alert. */
export function openCaseForm(a: Alert, label: string, api: InboxApi, o: Outcome): HTMLFormElement {
  let hazard!: HTMLInputElement
  let note!: HTMLInputElement
  let radios: HTMLInputElement[] = []
  const f = actionForm(
    'Open a case',
    label,
    (f) => {
      const set = document.createElement('fieldset')
      const legend = document.createElement('legend')
      legend.textContent = "Awaab's Law category"
      set.append(legend)
      radios = CATEGORIES.map(([value, text], i) => {
        const r = document.createElement('input')
        r.type = 'radio'
        r.name = 'category'
        r.value = value
        r.id = `inbox-case-${value}`
        r.checked = i === 0
        r.defaultChecked = i === 0
        const l = document.createElement('label')
        l.htmlFor = r.id
        l.textContent = text
        const row = document.createElement('div')
        row.className = 'inbox-radio'
        row.append(r, l)
        set.append(row)
        return r
      })
      f.append(set)
      hazard = field(f, 'Hazard', textInput('hazard', true), 'As people name it, for example damp-mould or excess-cold.')
      hazard.maxLength = 80
      hazard.defaultValue = HAZARD_OF[a.ruleId] ?? 'other'
      note = field(f, 'Note (optional)', textInput('note'))
    },
    async () => {
      const category = radios.find((r) => r.checked)?.value === 'emergency' ? 'emergency' : 'significant'
      const c = await api.openCase({
        alertId: a.id,
        category,
        hazard: hazard.value.trim(),
        ...(note.value.trim() ? { note: note.value.trim() } : {}),
      })
      await o.done(`Case opened (${category}, ${hazard.value.trim()}); its clocks are on the home's page.`)
      return c
    },
    o,
  )
  return f
}
