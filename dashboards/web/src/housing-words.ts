import type { Alert, AnyRule, Area, CaseView, Rule } from '#devices'
import { when } from './crew-words.ts'

/**
 * The housing view's words and groupings, kept free of the DOM so they can be unit-tested:
 * what an estate and a home are called, open alerts and case clocks in words, and the alert
 * levels a chart draws as lines.
 */

export const HOUSING_TYPES = new Set(['boiler', 'room'])
export const DAMP_RULE = 'damp-mould-risk'

/** The part of a device name after its kind: "Boiler, 14 Hawthorn House" → "14 Hawthorn House". */
const placeIn = (name: string) => {
  const i = name.indexOf(',')
  return i < 0 ? '' : name.slice(i + 1).trim()
}

/** A home is named by what its devices' names share after the kind ("14 Hawthorn House"); else by its UPRN. */
export function homeName(devices: readonly { name: string }[], uprn: string): string {
  const counts = new Map<string, number>()
  for (const d of devices) {
    const p = placeIn(d.name)
    if (p) counts.set(p, (counts.get(p) ?? 0) + 1)
  }
  const best = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]
  return best ? best[0] : `Home ${uprn}`
}

/** An estate is named by the estate area that covers its site; a site no estate covers keeps its id. */
export function estateName(site: string, areas: readonly Area[]): string {
  const estate = areas.find((a) => a.kind === 'estate' && a.sites.includes(site))
  return estate ? estate.name : site
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** "No open alerts" or "2 open alerts: Boiler pressure low, Damp and mould risk". */
export function openAlertsInWords(alerts: readonly Pick<Alert, 'title' | 'severity'>[]): string {
  if (alerts.length === 0) return 'No open alerts'
  const titles = [...new Set(alerts.map((a) => (a.severity === 'critical' ? `${a.title} (critical)` : a.title)))]
  return `${plural(alerts.length, 'open alert')}: ${titles.join(', ')}`
}

/** Cases still running: closed and cancelled ones have no clock left. */
export const isOpenCase = (c: Pick<CaseView, 'state'>) => c.state !== 'closed' && c.state !== 'cancelled'

/** A duration in the two largest units: "3 days 4 hours", "2 hours 5 minutes", "under a minute". */
export function span(seconds: number): string {
  const s = Math.abs(seconds)
  const d = Math.floor(s / 86_400)
  const h = Math.floor((s % 86_400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (d > 0) return h > 0 ? `${plural(d, 'day')} ${plural(h, 'hour')}` : plural(d, 'day')
  if (h > 0) return m > 0 ? `${plural(h, 'hour')} ${plural(m, 'minute')}` : plural(h, 'hour')
  return m > 0 ? plural(m, 'minute') : 'under a minute'
}

const STEP_WORDS: Record<string, string> = {
  investigate: 'Investigate',
  'written-summary': 'Send the written summary',
  'make-safe': 'Make safe',
  'preventative-begin': 'Begin preventative work',
  'preventative-on-site': 'Preventative work on site',
}

/** The case's clock in words: what is due next and the time left, or that it has breached and by how long. */
export function caseClock(c: Pick<CaseView, 'breached' | 'next' | 'deadlines'>): { text: string; breached: boolean } {
  const missed = c.deadlines.find((d) => d.breached)
  if (c.breached && missed) {
    const step = STEP_WORDS[missed.step] ?? missed.step
    const late = missed.secondsLeft !== null && missed.secondsLeft < 0 ? `, overdue by ${span(missed.secondsLeft)}` : ''
    return { text: `Breached: ${step} was due by ${when(missed.due)}${late}`, breached: true }
  }
  const n = c.next
  if (!n) return { text: 'No deadline running', breached: false }
  const step = STEP_WORDS[n.step] ?? n.step
  const left = n.secondsLeft === null ? '' : `, ${span(n.secondsLeft)} left`
  return { text: `${step} by ${when(n.due)}${left}${n.provisional ? ' (provisional)' : ''}`, breached: false }
}

/** A level the alert engine watches on a field, as a chart draws it. */
export interface Level {
  value: number
  label: string
  severity: 'info' | 'warning' | 'critical'
}

type Part = Rule | AnyRule['of'][number]

/** The raise levels of the threshold and window rules (also inside combined rules) on a field; one line per value. */
export function levelsOf(rules: readonly Rule[], field: string): Level[] {
  const out = new Map<number, Level>()
  const add = (value: number, title: string, severity: Level['severity']) => {
    if (!Number.isFinite(value)) return
    const had = out.get(value)
    if (had) {
      had.label = `${had.label}; ${title}`
      if (severity === 'critical') had.severity = severity
    } else out.set(value, { value, label: title, severity })
  }
  const visit = (r: Part) => {
    if (!('field' in r) || r.field !== field) return
    if (r.kind === 'threshold') add(r.raiseAt, r.title, r.severity)
    else if (r.kind === 'window') add(r.level, r.title, r.severity)
    else if (r.kind === 'any') for (const p of r.of) visit(p)
  }
  for (const r of rules) visit(r)
  return [...out.values()].sort((a, b) => a.value - b.value)
}
