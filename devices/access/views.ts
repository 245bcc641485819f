import type { Alert, AlertHistoryEntry } from '../alerts/alert.ts'
import type { Collection, Round } from '../collections/round.ts'
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

/** A round as a caller may see it: who set it up is a person, hidden from those who see no people. */
export function roundView(r: Round, scope: Pick<Scope, 'seesPeople'>): Round {
  return scope.seesPeople ? r : { ...r, createdBy: 'someone', updatedBy: 'someone' }
}

/** A collection as a caller may see it: a crew member's mark names them; a detected one names the system. */
export function collectionView(c: Collection, scope: Pick<Scope, 'seesPeople'>): Collection {
  return scope.seesPeople || c.actor.startsWith('system') ? c : { ...c, actor: 'someone' }
}
