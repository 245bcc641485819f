import type { Kysely } from 'kysely'
import type { AlertEventData, EventType, OutboundEvent, RoutedEvent } from '#devices'
import { OFFLINE_RULE } from '#devices'
import type { Database } from './schema.ts'

/**
 * The append-only histories the outbox follows, each read by its autoincrement id. Every row is
 * returned, also those that make no event, so the producer can tell a gap in the ids (a
 * transaction not yet committed, on PostgreSQL) from a row that simply sends nothing.
 */
export interface SourceRow {
  id: number
  events: RoutedEvent[]
}

export interface OutboxSource {
  name: string
  after(id: number, limit: number): Promise<SourceRow[]>
  /** The newest id (0 when empty): where a new outbox starts, so it sends what happens from then on. */
  latest(): Promise<number>
}

const maxId = async (db: Kysely<Database>, table: 'alert_history' | 'case_events' | 'collections') => {
  const r = await db
    .selectFrom(table)
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst()
  return Number(r?.id ?? 0)
}

/** History actions that leave the service, and as which event type. */
const ALERT_TYPES: Partial<Record<string, EventType>> = {
  raised: 'alert.raised',
  reopened: 'alert.reopened',
  acknowledged: 'alert.acknowledged',
  escalated: 'alert.escalated',
  resolved: 'alert.resolved',
  cleared: 'alert.cleared',
}

const event = (id: string, type: EventType, timestamp: string, data: OutboundEvent['data'], site: string | null, ruleId: string | null) =>
  ({ id, type, site, ruleId, payload: { type, timestamp, data } }) satisfies RoutedEvent

export function alertHistorySource(db: Kysely<Database>): OutboxSource {
  return {
    name: 'alert_history',
    latest: () => maxId(db, 'alert_history'),
    async after(id, limit) {
      const rows = await db
        .selectFrom('alert_history as h')
        .leftJoin('alerts as a', 'a.id', 'h.alert_id')
        .select(['h.id', 'h.alert_id', 'h.device_id', 'h.rule_id', 'h.action', 'h.at', 'h.actor', 'h.value', 'h.to_status', 'h.note'])
        .select(['a.device_type', 'a.site', 'a.title', 'a.severity'])
        .where('h.id', '>', id)
        .orderBy('h.id')
        .limit(limit)
        .execute()
      return rows.map((r) => {
        const type = ALERT_TYPES[r.action]
        const hid = Number(r.id)
        if (!type) return { id: hid, events: [] }
        const data: AlertEventData = {
          alertId: r.alert_id,
          deviceId: r.device_id,
          deviceType: r.device_type ?? '',
          site: r.site ?? '',
          ruleId: r.rule_id,
          title: r.title ?? '',
          severity: r.severity ?? '',
          status: r.to_status,
          value: r.value,
          at: r.at,
          actor: r.actor,
          note: r.note,
        }
        const events = [event(`msg_ah${hid}`, type, r.at, data, r.site, r.rule_id)]
        if (r.action === 'raised' && r.rule_id === OFFLINE_RULE.id)
          events.push(event(`msg_ah${hid}_offline`, 'device.offline', r.at, data, r.site, r.rule_id))
        return { id: hid, events }
      })
    },
  }
}

export function caseEventsSource(db: Kysely<Database>): OutboxSource {
  return {
    name: 'case_events',
    latest: () => maxId(db, 'case_events'),
    async after(id, limit) {
      const rows = await db
        .selectFrom('case_events as e')
        .innerJoin('cases as c', 'c.id', 'e.case_id')
        .select(['e.id', 'e.kind', 'e.at', 'c.id as case_id', 'c.alert_id', 'c.device_id', 'c.site', 'c.category', 'c.hazard'])
        .where('e.id', '>', id)
        .orderBy('e.id')
        .limit(limit)
        .execute()
      return rows.map((r) => {
        const eid = Number(r.id)
        if (r.kind !== 'opened') return { id: eid, events: [] }
        const data = {
          caseId: r.case_id,
          alertId: r.alert_id,
          deviceId: r.device_id,
          site: r.site,
          category: r.category,
          hazard: r.hazard,
          at: r.at,
        }
        return { id: eid, events: [event(`msg_case${eid}`, 'case.opened', r.at, data, r.site, null)] }
      })
    },
  }
}

export function collectionsSource(db: Kysely<Database>): OutboxSource {
  return {
    name: 'collections',
    latest: () => maxId(db, 'collections'),
    async after(id, limit) {
      const rows = await db
        .selectFrom('collections as c')
        .leftJoin('devices as d', 'd.id', 'c.device_id')
        .select(['c.id', 'c.device_id', 'c.at', 'c.level_before', 'c.level_after', 'c.source', 'd.site'])
        .where('c.id', '>', id)
        .orderBy('c.id')
        .limit(limit)
        .execute()
      return rows.map((r) => {
        const cid = Number(r.id)
        const at = new Date(Number(r.at)).toISOString()
        const data = { deviceId: r.device_id, site: r.site, at, levelBefore: r.level_before, levelAfter: r.level_after, source: r.source }
        return { id: cid, events: [event(`msg_col${cid}`, 'collection.recorded', at, data, r.site, null)] }
      })
    },
  }
}
