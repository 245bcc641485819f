import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import {
  type Alert,
  CREW_MAX_BINS,
  type CrewAlert,
  type CrewBin,
  CrewToday,
  CrewTodayQuery,
  compareCrewAlerts,
  compareCrewBins,
  type Device,
  type DeviceState,
  fullBefore,
  londonDayBounds,
  type Scope,
  URGENT_BIN_RULES,
} from '#devices'
import { principalOf } from '../access/route-access.ts'
import type { BinOutlookDeps } from './bin-outlook.ts'

export interface CrewRoutesDeps extends BinOutlookDeps {
  /** Live state of a device (its latest reading), as GET /api/devices shows it. */
  state(device: Device): DeviceState
  /** MAP_TILE_URL, handed to the crew's map; null or absent: markers on a blank map. */
  mapTileUrl?: string | null
}

/** The store lists at most this many alerts or collections a call. */
const PAGE = 1000
/** Pages of today's collections read at most: enough for a city's busiest day. */
const MAX_COLLECTION_PAGES = 10

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

const crewAlert = (a: Alert): CrewAlert => ({
  id: a.id,
  ruleId: a.ruleId,
  title: a.title,
  severity: a.severity,
  status: a.status,
  raisedAt: a.raisedAt,
})

export const crewRoutes =
  (deps: CrewRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const { registry } = deps

    /**
     * Open alerts on the bins in scope by device. Fires and knocked-over bins are asked for on
     * their own, so a flood of other alerts can never push them out of the store's page.
     */
    const openAlerts = async (scope: Scope) => {
      const visible = scope.visible().map((v) => ({ ...v, types: v.types.filter((t) => t === 'bin') }))
      const pages = await Promise.all([
        ...URGENT_BIN_RULES.map((ruleId) => registry.alerts.list({ status: 'open', ruleId, visible, limit: PAGE })),
        registry.alerts.list({ status: 'open', visible, limit: PAGE }),
      ])
      const byDevice = new Map<string, Map<string, CrewAlert>>()
      for (const a of pages.flat()) {
        const own = byDevice.get(a.deviceId) ?? new Map<string, CrewAlert>()
        own.set(a.id, crewAlert(a))
        byDevice.set(a.deviceId, own)
      }
      return byDevice
    }

    /** Each bin's latest collection since London midnight, read newest first a page at a time. */
    const collectedToday = async (scope: Scope, now: number) => {
      const sites = scope.sites('waste') ?? undefined
      const latest = new Map<string, string>()
      let until: number | undefined
      for (let page = 0; page < MAX_COLLECTION_PAGES; page++) {
        const list = await registry.rounds.listCollections({ sites, since: londonDayBounds(now)[0], until, limit: PAGE })
        for (const c of list) if (!latest.has(c.deviceId)) latest.set(c.deviceId, c.at)
        if (list.length < PAGE) break
        // `until` is exclusive: one past the oldest reads it again rather than skipping others at the same instant.
        until = Date.parse(list.at(-1)!.at) + 1
      }
      return latest
    }

    /** Each bin's place along its round (stop n of m), counting only the stops the caller sees. */
    const stopsOf = async (scope: Scope) => {
      const sites = scope.sites('waste') ?? undefined
      const stops = new Map<string, NonNullable<CrewBin['stop']>>()
      for (const r of await registry.rounds.listRounds({ sites })) {
        for (const [i, id] of r.deviceIds.entries()) stops.set(id, { round: r.name, number: i + 1, of: r.deviceIds.length })
      }
      return stops
    }

    app.get(
      '/api/crew/today',
      {
        config: { access: { data: ['waste'] } },
        schema: {
          tags: ['rounds'],
          description:
            `The caller's bins for today's round, with fill, forecast, next collection and open alerts: fires and knocked-over bins first, ` +
            `then those that will overflow before their next collection (soonest first), then the fullest. At most ${CREW_MAX_BINS} bins, or \`limit\` if fewer.`,
          querystring: CrewTodayQuery,
          response: { 200: CrewToday },
        },
      },
      async (req) => {
        const { scope } = principalOf(req)
        const now = Date.now()
        const devices = (await registry.devices.list({ type: 'bin', visible: scope.visible() })).filter((d) => scope.device('bin', d.site))
        const [alerts, collected, stops, outlooks] = await Promise.all([
          openAlerts(scope),
          collectedToday(scope, now),
          stopsOf(scope),
          deps.outlooks(devices),
        ])
        const bins = devices.map((d, i): CrewBin => {
          const fill = deps.state(d).latest
          const level = fill?.readings.fillingLevel
          const o = outlooks[i] ?? { ratePerDay: null, level: null, at: null, reachesAt: null }
          const next = deps.nextCollection(d.id, now)
          return {
            id: d.id,
            name: d.name,
            site: d.site,
            latitude: d.latitude,
            longitude: d.longitude,
            fill: typeof level === 'number' ? Math.min(1, Math.max(0, level)) : null,
            fillAt: typeof level === 'number' ? (fill?.ts ?? null) : null,
            fullAt: o.reachesAt,
            nextCollection: iso(next),
            fullBeforeCollection: fullBefore(o, next),
            collectedAt: collected.get(d.id) ?? null,
            stop: stops.get(d.id) ?? null,
            alerts: [...(alerts.get(d.id)?.values() ?? [])].sort(compareCrewAlerts),
          }
        })
        bins.sort(compareCrewBins)
        return {
          generatedAt: iso(now)!,
          total: bins.length,
          mapTileUrl: deps.mapTileUrl ?? null,
          bins: bins.slice(0, req.query.limit ?? CREW_MAX_BINS),
        }
      },
    )
  }
