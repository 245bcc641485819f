import { z } from 'zod'
import { Alert, AlertHistoryEntry, PersonAction } from './alerts/alert.ts'
import type { Incident } from './alerts/incident.ts'
import type { Collection } from './collections/round.ts'

export const Presence = z.enum(['online', 'offline', 'unknown'])
export type Presence = z.infer<typeof Presence>

/** Live state of one device as pushed to dashboards. */
export const DeviceState = z.object({
  deviceId: z.string(),
  type: z.string(),
  site: z.string(),
  presence: Presence,
  lastSeen: z.string().nullable(),
  latest: z
    .object({
      ts: z.string(),
      outcome: z.enum(['accepted', 'suspicious']),
      readings: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])),
    })
    .nullable(),
})
export type DeviceState = z.infer<typeof DeviceState>

/** A person acted on an alert: the alert as it now is, and the history entry the action wrote. */
/** A person's action on an alert, or the engine escalating it. */
export const AlertChanged = z.object({ action: z.union([PersonAction, z.literal('escalated')]), alert: Alert, entry: AlertHistoryEntry })
export type AlertChanged = z.infer<typeof AlertChanged>

/** Socket.IO events, server to browser. Transition names are stable API. */
export interface ServerToClientEvents {
  'alert:raised': (alert: Alert) => void
  'alert:acknowledged': (alert: Alert) => void
  'alert:cleared': (alert: Alert) => void
  /** Every action a person takes (acknowledge, assign, snooze, unsnooze, resolve, reopen) and every escalation; 'alert:acknowledged' is still sent too. */
  'alert:changed': (change: AlertChanged) => void
  'device:state': (state: DeviceState) => void
  /** Many devices of one site went silent together: one incident instead of an offline alert each. */
  'incident:raised': (incident: Incident) => void
  /**
   * More of its devices went silent, or some came back. In cluster mode the engines of several nodes
   * may update one incident, and their announcements travel separately: an update can reach a browser
   * before the raise. Each carries the whole incident; keep it by id, raised or updated alike.
   */
  'incident:updated': (incident: Incident) => void
  /** All its devices are reporting again. */
  'incident:cleared': (incident: Incident) => void
  /**
   * An Awaab's Law case opened or changed. Only which case and where: the page asks the API for the
   * case itself, so what each person sees of it is decided in one place. Housing roles only.
   */
  'case:changed': (change: { caseId: string; site: string | null; deviceId: string | null }) => void
  /** A bin emptied: marked by a crew, or seen in its readings. A viewer's copy names nobody. */
  'collection:recorded': (recorded: { site: string; collection: Collection }) => void
}

// biome-ignore lint/complexity/noBannedTypes: the browser sends nothing yet; acknowledgements go through REST.
export type ClientToServerEvents = {}

/** In-process bus from the log readers to dashboards; the Redis adapter replaces it when scaling out. */
export interface LiveBus {
  /** Calls every listener; one that throws is logged and counted and stops neither the others nor the emitter. */
  emit<K extends keyof ServerToClientEvents>(event: K, ...args: Parameters<ServerToClientEvents[K]>): void
  /** Adds a listener; `owner` lets a component remove all of its listeners at once on close. */
  on<K extends keyof ServerToClientEvents>(event: K, listener: ServerToClientEvents[K], owner?: string): () => void
  removeOwner(owner: string): void
}
