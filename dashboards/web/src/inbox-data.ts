import type { Alert, AlertChanged, AlertHistoryEntry, Area, ContractorRequest } from '#devices'
import { type Names, seesPeople } from './inbox-words.ts'
import type { ViewContext } from './view.ts'

/** The filters the inbox offers; each is one server query (status=…), so scope and order stay the server's. */
export const FILTERS = [
  { id: 'open', label: 'Open', status: 'open' },
  { id: 'acknowledged', label: 'Acknowledged', status: 'acknowledged' },
  { id: 'resolved', label: 'Resolved', status: 'resolved' },
  { id: 'cleared', label: 'Cleared', status: 'cleared' },
  { id: 'all', label: 'All', status: null },
] as const
export type Filter = (typeof FILTERS)[number]

/** Enough for a day's work; older alerts are one filter away. */
export const LIST_LIMIT = 300

export const matches = (f: Filter, a: Alert) =>
  f.status === null || a.status === f.status || (f.status === 'open' && (a.status === 'active' || a.status === 'acknowledged'))

/** Newest first, as the server sends them. */
export const newestFirst = (x: Alert, y: Alert) => Date.parse(y.raisedAt) - Date.parse(x.raisedAt) || y.id.localeCompare(x.id)

export function inboxApi(ctx: ViewContext) {
  const { get, post } = ctx.api
  const alertPath = (id: string, rest = '') => `/api/alerts/${encodeURIComponent(id)}${rest}`
  return {
    /** Device, area and people names, fetched once per view. A viewer is not asked for people (the server refuses). */
    async names(): Promise<Names> {
      const people = seesPeople(ctx.me)
      const [devices, areas, directory] = await Promise.all([
        ctx.api.devices(),
        get<Area[]>('/api/areas'),
        people ? get<{ id: string; name: string }[]>('/api/people/directory') : Promise.resolve([]),
      ])
      return {
        me: ctx.me,
        devices: new Map(devices.map((d) => [d.id, d.name])),
        areas,
        people: new Map(directory.map((p) => [p.id, p.name])),
      }
    },
    /** A page of the filter's alerts, newest first; `before`: the last alert of the page before. */
    list: (f: Filter, before?: Alert) =>
      get<Alert[]>(
        `/api/alerts?${f.status ? `status=${f.status}&` : ''}limit=${LIST_LIMIT}${before ? `&before=${Date.parse(before.raisedAt)}_${before.id}` : ''}`,
      ),
    alert: (id: string) => get<Alert>(alertPath(id)),
    history: (id: string) => get<AlertHistoryEntry[]>(alertPath(id, '/history')),
    /** The contractor's service request for the alert (Open311), if one was made. */
    contractor: (id: string) => get<ContractorRequest[]>(alertPath(id, '/contractor')),
    command: (id: string, command: string, body: unknown) => post<AlertChanged>(alertPath(id, `/${command}`), body),
    openCase: (body: { alertId: string; category: 'emergency' | 'significant'; hazard: string; note?: string }) =>
      post<{ id: string; state: string }>('/api/cases', body),
  }
}
export type InboxApi = ReturnType<typeof inboxApi>
