import { z } from 'zod'
import { Severity } from './rule.ts'

/**
 * `active` and `acknowledged` are open; `resolved` is closed by a person (with a note),
 * `cleared` by the data. Assignment and snoozing are attributes, not states.
 */
export const AlertStatus = z.enum(['active', 'acknowledged', 'resolved', 'cleared'])
export type AlertStatus = z.infer<typeof AlertStatus>

export const OPEN_STATUSES = ['active', 'acknowledged'] as const satisfies readonly AlertStatus[]
export const isOpen = (s: AlertStatus) => (OPEN_STATUSES as readonly AlertStatus[]).includes(s)

/**
 * A resolved alert whose condition returns within this time reopens instead of raising a
 * new one, so a fix that did not hold keeps its history (our suggestion, issue 9 "Lifecycle").
 */
export const REOPEN_WITHIN_MS = 7 * 24 * 3_600_000
/** The longest snooze: beyond this an alert is not snoozed but forgotten (our suggestion). */
export const MAX_SNOOZE_MS = 30 * 24 * 3_600_000
export const NOTE_MAX = 1000
export const ASSIGNEE_MAX = 120

/** What a rule computed besides its value (forecast time, wasted kWh and cost, …). */
export const AlertDetail = z.record(z.string(), z.union([z.number(), z.boolean(), z.null()]))
export type AlertDetail = z.infer<typeof AlertDetail>

/** An alert as stored, served by the API and pushed over Socket.IO. */
export const Alert = z.object({
  id: z.string(),
  deviceId: z.string(),
  deviceType: z.string(),
  site: z.string(),
  ruleId: z.string(),
  title: z.string(),
  severity: Severity,
  status: AlertStatus,
  value: z.number(),
  text: z.string().nullable().describe("the rule's plain-English text, for people"),
  detail: AlertDetail.nullable(),
  raisedAt: z.string().describe('reading time that raised the alert, ISO 8601'),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  acknowledgedComment: z.string().nullable(),
  assignedTo: z.string().nullable().describe('a person or team'),
  snoozedUntil: z.string().nullable().describe('ISO 8601; snoozed while in the future'),
  resolvedAt: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  resolvedNote: z.string().nullable(),
  clearedAt: z.string().nullable().describe('when the data last cleared it'),
  incidentId: z.string().nullable().describe('the incident it is grouped under (many devices of its site silent together)'),
})
export type Alert = z.infer<typeof Alert>

export const AlertHistoryAction = z.enum([
  'raised',
  'cleared',
  'acknowledged',
  'escalated',
  'assigned',
  'snoozed',
  'unsnoozed',
  'resolved',
  'reopened',
])
export type AlertHistoryAction = z.infer<typeof AlertHistoryAction>

/** The history actions a person takes (the rest are the rule engine's). */
export const PersonAction = AlertHistoryAction.extract(['acknowledged', 'assigned', 'snoozed', 'unsnoozed', 'resolved', 'reopened'])
export type PersonAction = z.infer<typeof PersonAction>

/** One transition or human action on an alert, as kept in its history (oldest first). */
export const AlertHistoryEntry = z.object({
  alertId: z.string(),
  deviceId: z.string(),
  ruleId: z.string(),
  action: AlertHistoryAction,
  at: z.string().describe('ISO 8601'),
  actor: z.string().describe('"system" for rule transitions, else who acted'),
  value: z.number().nullable(),
  // Null on entries recorded before the lifecycle existed.
  from: AlertStatus.nullable().describe('status before; null when raised'),
  to: AlertStatus.nullable(),
  note: z.string().nullable(),
  assignedTo: z.string().nullable().describe("on 'assigned': to whom"),
  snoozedUntil: z.string().nullable().describe("on 'snoozed': until when"),
  detail: AlertDetail.nullable().describe("on 'raised' and 'reopened': what the rule computed"),
})
export type AlertHistoryEntry = z.infer<typeof AlertHistoryEntry>

/** What a person can do to an alert. */
export const AlertCommand = z.enum(['acknowledge', 'assign', 'snooze', 'unsnooze', 'resolve', 'reopen'])
export type AlertCommand = z.infer<typeof AlertCommand>

const ALLOWED_FROM: Record<AlertCommand, readonly AlertStatus[]> = {
  acknowledge: ['active'],
  assign: OPEN_STATUSES,
  snooze: OPEN_STATUSES,
  unsnooze: OPEN_STATUSES,
  resolve: OPEN_STATUSES,
  reopen: ['resolved', 'cleared'],
}

export const canApply = (command: AlertCommand, status: AlertStatus) => ALLOWED_FROM[command].includes(status)

export const commandsFrom = (status: AlertStatus): AlertCommand[] => AlertCommand.options.filter((c) => canApply(c, status))

/** Why a command does not apply, and what does, for the 409 a person sees. */
export function refusal(command: AlertCommand, status: AlertStatus): string {
  const possible = commandsFrom(status)
  return (
    `cannot ${command} an alert that is ${status}: ${command} applies only to ${ALLOWED_FROM[command].join(' or ')} alerts. ` +
    (possible.length ? `Possible now: ${possible.join(', ')}.` : 'Nothing can be done to it now.')
  )
}
