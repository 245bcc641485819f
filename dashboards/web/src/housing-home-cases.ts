import type { CaseView } from '#devices'
import { when } from './crew-words.ts'
import { section } from './housing-home-now.ts'
import { caseClock, isOpenCase } from './housing-words.ts'

const HAZARD_WORDS: Record<string, string> = { 'damp-mould': 'Damp and mould', 'excess-cold': 'Excess cold' }
const STATE_WORDS: Record<CaseView['state'], string> = {
  open: 'Open: investigation due',
  investigated: 'Investigated: hazard found',
  'no-hazard': 'Investigated: no hazard found',
  'alternative-accommodation': 'Household offered alternative accommodation',
  'made-safe': 'Made safe',
  'preventative-works': 'Preventative work under way',
  closed: 'Closed',
  cancelled: 'Cancelled',
}

/** The home's open Awaab's Law cases, each with its clock: what is due next and the time left, or breached, in words and red. */
export function createCases() {
  const el = section("Awaab's Law cases", 'home-cases')
  const list = document.createElement('ul')
  list.className = 'cases'
  list.id = 'cases'
  el.append(list)
  const render = (cases: readonly CaseView[]) => {
    const open = cases.filter(isOpenCase)
    if (open.length === 0) {
      const li = document.createElement('li')
      li.textContent = "No open Awaab's Law cases for this home."
      list.replaceChildren(li)
      return
    }
    list.replaceChildren(
      ...open.map((c) => {
        const li = document.createElement('li')
        li.className = 'case'
        li.dataset.caseId = c.id
        if (c.alertId) li.dataset.alertId = c.alertId
        const h = document.createElement('h4')
        h.textContent = `${HAZARD_WORDS[c.hazard] ?? c.hazard} (${c.category === 'emergency' ? 'emergency' : 'significant'} hazard)`
        const state = document.createElement('p')
        state.textContent = `${STATE_WORDS[c.state]}. Triaged ${when(c.triagedAt)}.`
        const clock = caseClock(c)
        const p = document.createElement('p')
        p.className = clock.breached ? 'case-clock breached' : 'case-clock'
        p.textContent = clock.text
        li.classList.toggle('breached', clock.breached)
        li.append(h, state, p)
        return li
      }),
    )
  }
  return { el, render }
}
