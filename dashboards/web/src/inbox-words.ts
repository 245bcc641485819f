import type { Alert, AlertHistoryEntry, AlertStatus, Area, Me, Severity } from '#devices'
import { ROLE_RIGHTS } from '#devices/rights'
import { when } from './crew-words.ts'

/** What the inbox knows besides the alerts: names for devices, areas and people, so no raw id is the main label. */
export interface Names {
  me: Me
  devices: Map<string, string>
  areas: readonly Area[]
  /** Person id → name; empty for a role that sees no people. */
  people: Map<string, string>
}

export const seesPeople = (me: Me) => me.grants.some((g) => ROLE_RIGHTS[g.role].seesPeople)

export const SEVERITY_WORD: Record<Severity, string> = { critical: 'Critical', warning: 'Warning', info: 'For information' }

export const STATUS_WORD: Record<AlertStatus, string> = {
  active: 'Open, not yet acknowledged',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
  cleared: 'Cleared by the readings',
}

export const deviceName = (n: Names, a: Pick<Alert, 'deviceId' | 'deviceType'>) =>
  n.devices.get(a.deviceId) ?? `${a.deviceType} ${a.deviceId}`

/** "Bin full, Market Street": what every action name and link starts with. */
export const alertLabel = (n: Names, a: Alert) => `${a.title}, ${deviceName(n, a)}`

/** The areas a site is in, by name; the site itself when no area the caller sees holds it. */
export function placeOf(n: Names, site: string): string {
  const names = n.areas.filter((a) => a.sites.includes(site)).map((a) => a.name)
  return names.length ? names.join(', ') : `site ${site}`
}

export const areaName = (n: Names, id: string) => (id === 'all' ? 'all areas' : (n.areas.find((a) => a.id === id)?.name ?? id))

const ROLE_WORD: Record<string, string> = { crew: 'Crew', housing: 'Housing', energy: 'Energy', admin: 'Admin', viewer: 'Viewer' }

/** A person or team as people say it: "Rowan Reed", "Crew team, Riverside round". */
export function assigneeName(n: Names, to: string): string {
  if (to.startsWith('person:')) return personName(n, to)
  const [role = '', area = 'all'] = to.slice('team:'.length).split('@')
  return `${ROLE_WORD[role] ?? role} team, ${areaName(n, area)}`
}

/** Who did something, from a history actor ("person:<id>", "token:<id>", "system", "someone"). */
export function personName(n: Names, actor: string): string {
  if (actor === 'system') return 'the rules'
  if (actor === 'someone') return 'someone'
  if (actor.startsWith('person:')) {
    const id = actor.slice('person:'.length)
    if (id === n.me.id) return `${n.me.name} (you)`
    return n.people.get(id) ?? 'a person no longer active'
  }
  if (actor.startsWith('token:') || actor === 'admin-token') return 'an API token'
  return actor
}

const ACTION_WORD: Record<AlertHistoryEntry['action'], string> = {
  raised: 'Raised',
  cleared: 'Cleared by the readings',
  acknowledged: 'Acknowledged',
  escalated: 'Escalated',
  assigned: 'Assigned',
  snoozed: 'Snoozed',
  unsnoozed: 'Snooze ended',
  resolved: 'Resolved',
  reopened: 'Reopened',
}

const SHORT_STATUS: Record<AlertStatus, string> = { active: 'open', acknowledged: 'acknowledged', resolved: 'resolved', cleared: 'cleared' }

/** One history line: "Acknowledged by Rowan Reed (open → acknowledged)". The time and note are shown beside it. */
export function entryWords(n: Names, e: AlertHistoryEntry): string {
  let s = ACTION_WORD[e.action]
  if (e.action === 'assigned' && e.assignedTo) s += ` to ${assigneeName(n, e.assignedTo)}`
  if (e.action === 'snoozed' && e.snoozedUntil) s += ` until ${when(e.snoozedUntil)}`
  if (e.actor !== 'system') s += ` by ${personName(n, e.actor)}`
  if (e.from && e.to && e.from !== e.to) s += ` (${SHORT_STATUS[e.from]} → ${SHORT_STATUS[e.to]})`
  return s
}

export const isSnoozed = (a: Pick<Alert, 'snoozedUntil'>, now = Date.now()) => a.snoozedUntil !== null && Date.parse(a.snoozedUntil) > now

/** The status words of a row: state, then who holds it and any snooze, only as far as the server told us. */
export function stateLine(n: Names, a: Alert): string {
  const parts = [STATUS_WORD[a.status]]
  if (a.status === 'acknowledged' && a.acknowledgedAt)
    parts[0] += a.acknowledgedBy ? ` by ${personName(n, a.acknowledgedBy)} at ${when(a.acknowledgedAt)}` : ` at ${when(a.acknowledgedAt)}`
  if (a.status === 'resolved' && a.resolvedAt) parts[0] += ` at ${when(a.resolvedAt)}`
  if (a.status === 'cleared' && a.clearedAt) parts[0] += ` at ${when(a.clearedAt)}`
  if (a.assignedTo) parts.push(`Assigned to ${assigneeName(n, a.assignedTo)}`)
  if (isSnoozed(a)) parts.push(`Snoozed until ${when(a.snoozedUntil ?? '')}`)
  return parts.join('. ')
}

const LONDON_HOUR = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: 'numeric', hourCycle: 'h23' })
const LONDON_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' })

/** Tomorrow at 08:00 on London's clock (GMT or BST), as an instant. */
export function tomorrowAtEight(now = Date.now()): Date {
  const [y, m, d] = LONDON_DAY.format(now).split('-').map(Number) as [number, number, number]
  const guess = Date.UTC(y, m - 1, d + 1, 8)
  // London is UTC or one hour ahead: move the guess by what its clock reads beyond 08:00.
  return new Date(guess - (Number(LONDON_HOUR.format(guess)) - 8) * 3_600_000)
}
