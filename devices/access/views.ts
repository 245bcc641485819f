import type { Alert, AlertHistoryEntry } from '../alerts/alert.ts'
import type { Scope } from './scope.ts'

/**
 * What a caller is shown of an alert: a role that does not see people (viewer) gets what
 * happened but not who did it or what they wrote.
 */
export function alertView(a: Alert, scope: Pick<Scope, 'seesPeople'>): Alert {
  if (scope.seesPeople) return a
  return { ...a, acknowledgedBy: null, acknowledgedComment: null, assignedTo: null, resolvedBy: null, resolvedNote: null }
}

export function historyView(e: AlertHistoryEntry, scope: Pick<Scope, 'seesPeople'>): AlertHistoryEntry {
  if (scope.seesPeople) return e
  return { ...e, actor: e.actor === 'system' ? 'system' : 'someone', note: null, assignedTo: null }
}
