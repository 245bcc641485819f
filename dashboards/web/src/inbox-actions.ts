import { type Alert, canApply } from '#devices'
import { dataClassOf, ROLE_NAMES, ROLE_RIGHTS } from '#devices/rights'
import { openCaseForm } from './inbox-case.ts'
import type { InboxApi } from './inbox-data.ts'
import { actionForm, field, type Outcome, select, textInput } from './inbox-form.ts'
import { alertLabel, areaName, isSnoozed, type Names, tomorrowAtEight } from './inbox-words.ts'

/** Teams that could take the alert: each role that reads its data, in the areas holding its site or everywhere. */
function teams(n: Names, a: Alert): [string, string][] {
  const c = dataClassOf(a.deviceType)
  const areas = n.areas.filter((x) => x.sites.includes(a.site))
  return ROLE_NAMES.filter((r) => r !== 'viewer' && c !== undefined && ROLE_RIGHTS[r].read.includes(c)).flatMap((r) => {
    const name = `${r[0]?.toUpperCase()}${r.slice(1)} team`
    const places = r === 'admin' ? ['all'] : [...areas.map((x) => x.id), 'all']
    return places.map((p): [string, string] => [`team:${r}@${p}`, `${name}, ${areaName(n, p)}`])
  })
}

/** People first, then teams, under their own headings; nothing chosen until the person picks. */
function assignees(people: [string, string][], teams: [string, string][]): HTMLSelectElement {
  const s = select('to', [['', 'Choose a person or team']])
  s.required = true
  for (const [label, options] of [
    ['People', people],
    ['Teams', teams],
  ] as const) {
    if (options.length === 0) continue
    const g = document.createElement('optgroup')
    g.label = label
    for (const [value, text] of options) g.append(new Option(text, value))
    s.append(g)
  }
  return s
}

const SNOOZES = [
  ['1h', 'For 1 hour'],
  ['4h', 'For 4 hours'],
  ['tomorrow', 'Until tomorrow 08:00'],
] as const
const snoozeUntil = (choice: string) =>
  choice === 'tomorrow' ? tomorrowAtEight() : new Date(Date.now() + (choice === '4h' ? 4 : 1) * 3_600_000)

/**
 * Every action form the caller may use on this alert, built once; `update` shows those that
 * apply to the alert as it now is, so a live change elsewhere does not wipe what is being typed.
 */
export function buildActions(first: Alert, n: Names, api: InboxApi, o: Outcome) {
  const label = alertLabel(n, first)
  const id = first.id
  const run = (command: string, body: unknown, what: string) => async () => {
    const r = await api.command(id, command, body)
    await o.done(what, r.alert)
  }
  let comment!: HTMLInputElement
  const ack = actionForm(
    'Acknowledge',
    label,
    (f) => {
      comment = field(f, 'Comment (optional)', textInput('comment'), 'Say what you are doing about it.')
    },
    () => run('acknowledge', comment.value.trim() ? { comment: comment.value.trim() } : {}, 'Acknowledged.')(),
    o,
  )
  let to!: HTMLSelectElement
  const people = [...n.people].sort((x, y) => x[1].localeCompare(y[1])).map(([pid, name]): [string, string] => [`person:${pid}`, name])
  const assign = actionForm(
    'Assign',
    label,
    (f) => {
      to = field(f, 'Assign to', assignees(people, teams(n, first)))
    },
    () => run('assign', { to: to.value }, 'Assigned.')(),
    o,
  )
  let until!: HTMLSelectElement
  const snooze = actionForm(
    'Snooze',
    label,
    (f) => {
      until = field(f, 'How long to snooze', select('until', SNOOZES), 'Times are London time.')
    },
    () => run('snooze', { until: snoozeUntil(until.value).toISOString() }, 'Snoozed.')(),
    o,
  )
  const unsnooze = actionForm('Unsnooze', label, () => {}, run('unsnooze', {}, 'Snooze ended.'), o)
  let note!: HTMLInputElement
  const resolve = actionForm(
    'Resolve',
    label,
    (f) => {
      note = field(f, 'How it was dealt with', textInput('note', true))
    },
    () => run('resolve', { note: note.value.trim() }, 'Resolved.')(),
    o,
  )
  let why!: HTMLInputElement
  const reopen = actionForm(
    'Reopen',
    label,
    (f) => {
      why = field(f, 'Why reopen (optional)', textInput('note'))
    },
    () => run('reopen', why.value.trim() ? { note: why.value.trim() } : {}, 'Reopened.')(),
    o,
  )
  const forms: HTMLFormElement[] = [ack, assign, snooze, unsnooze, resolve, reopen]
  if (dataClassOf(first.deviceType) === 'housing') forms.push(openCaseForm(first, label, api, o))
  const update = (a: Alert) => {
    ack.hidden = !canApply('acknowledge', a.status)
    assign.hidden = !canApply('assign', a.status)
    snooze.hidden = !canApply('snooze', a.status) || isSnoozed(a)
    unsnooze.hidden = !canApply('unsnooze', a.status) || !isSnoozed(a)
    resolve.hidden = !canApply('resolve', a.status)
    reopen.hidden = !canApply('reopen', a.status)
  }
  update(first)
  return { forms, update }
}
