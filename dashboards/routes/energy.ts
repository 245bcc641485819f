import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  ABOVE_BASELINE_RULE,
  type BaselineRule,
  type Device,
  dayProfile,
  EnergyBuildings,
  EnergyDay,
  type EnergyRules,
  type EnergyWeek,
  londonDayNumber,
  mondayOf,
  OPEN_HOURS_TEXT,
  OUT_OF_HOURS_RULE,
  type Rule,
  type Series,
  soFar,
  startOfLondonDay,
  type WeekFigures,
  weekFigures,
} from '#devices'
import { queryHalfHourly } from '../../influx/energy-half-hours.ts'
import type { InfluxQuery } from '../../influx/query.ts'
import type { DeviceStore } from '../../store/device-store.ts'
import { principalOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'

export interface EnergyRoutesDeps {
  devices: DeviceStore
  /**
   * The rules the alert engine applies to a device, its site's and its own overrides merged (the
   * rule book, in memory): a building's figures follow the thresholds its alerts use.
   */
  rulesFor(device: Device): readonly Rule[]
  influx: InfluxQuery
  /** ENERGY_TARIFF_GBP_PER_KWH: the £ the alerts put on wasted energy, and so this view. */
  tariffGbpPerKwh: number
}

const DAY_MS = 86_400_000
/** Eight weeks back: the usual-day baseline (8 same weekdays) and the base load (28 nights) both fit. */
const HISTORY_DAYS = 56
/** Meters queried at once for the ranking: InfluxDB shares two cores with everything else. */
const PARALLEL = 4
const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date, YYYY-MM-DD')
const Params = z.object({ deviceId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/) })
const WEEKDAY = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'long' })

const WASTE =
  'Out-of-hours waste: outside 07:00–19:00 London on working days (weekends and bank holidays are out of hours all day), ' +
  "in each half-hour whose demand is beyond the energy-out-of-hours alert's tolerance (base load × 1.2 + 1 kW, or the building's override), " +
  "the energy above the building's base load; the base load is the lower decile of its mean 02:00–04:00 demand " +
  'over the last 28 nights before the week (at least 7), as the alert judges it. £ at ENERGY_TARIFF_GBP_PER_KWH.'

/** A day number from YYYY-MM-DD; null if no such date. */
function dayOf(iso: string): number | null {
  const ms = Date.parse(`${iso}T12:00:00Z`)
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== iso) return null
  return Math.floor(ms / DAY_MS)
}

function weekOut(w: WeekFigures): EnergyWeek {
  const notes: string[] = []
  if (w.baseLoadKw === null)
    notes.push(
      `No out-of-hours figure yet: the base load needs ${w.nightsNeeded} nights of readings before the week, and there are ${w.nights}.`,
    )
  if (w.usualKwh === null)
    notes.push(`No usual week to compare with yet: that needs ${w.weeksNeeded} earlier weeks of readings, and there are ${w.weeks}.`)
  return {
    ...w,
    from: new Date(w.from).toISOString(),
    to: new Date(w.to).toISOString(),
    note: notes.length ? notes.join(' ') : null,
  }
}

/** Runs `work` over `items`, `n` at a time, keeping their order. */
async function inTurn<T, R>(items: readonly T[], n: number, work: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await work(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, lane))
  return out
}

export const energyRoutes =
  (deps: EnergyRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const history = (d: Device, firstDay: number, to: number): Promise<Series> =>
      queryHalfHourly(deps.influx, d.id, startOfLondonDay(firstDay), to)
    /**
     * The two rules as the alert engine applies them to this meter, with its site's and its own
     * overrides; a rule switched off for it still defines the figures.
     */
    const rulesFor = (d: Device): EnergyRules => {
      const applied = deps.rulesFor(d)
      const pick = (base: BaselineRule) => {
        const r = applied.find((x) => x.id === base.id)
        return r?.kind === 'baseline' ? r : base
      }
      return { outOfHours: pick(OUT_OF_HOURS_RULE), aboveBaseline: pick(ABOVE_BASELINE_RULE) }
    }

    app.get(
      '/api/energy/buildings',
      {
        config: { access: { data: ['energy'] } },
        schema: {
          tags: ['energy'],
          description: `Buildings (energy meters) in the caller's scope, most out-of-hours waste this week first (Monday 00:00 London to now). ${WASTE}`,
          querystring: z.object({ week: IsoDate.optional().describe('any day of the week wanted; default this week') }),
          response: { 200: EnergyBuildings, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const { scope } = principalOf(req)
        const now = Date.now()
        const day = req.query.week ? dayOf(req.query.week) : londonDayNumber(now)
        if (day === null) return sendError(reply, 400, 'BAD_REQUEST', `no such date: ${req.query.week}`)
        const monday = mondayOf(day)
        const meters = (await deps.devices.list({ type: 'meter', visible: scope.visible() })).filter((d) => scope.device(d.type, d.site))
        const until = Math.min(now, startOfLondonDay(monday + 7))
        const weeks = await inTurn(meters, PARALLEL, async (d) => {
          const series = await history(d, monday - HISTORY_DAYS, until)
          return weekFigures(series, monday, now, deps.tariffGbpPerKwh, rulesFor(d))
        })
        const ranked = meters
          .map((d, i) => ({ d, w: weeks[i]! }))
          .sort((a, b) => (b.w.wasteKwh ?? -1) - (a.w.wasteKwh ?? -1) || a.d.name.localeCompare(b.d.name))
        return {
          tariffGbpPerKwh: deps.tariffGbpPerKwh,
          openHours: OPEN_HOURS_TEXT,
          buildings: ranked.map(({ d, w }, i) => ({
            deviceId: d.id,
            name: d.name,
            site: d.site,
            rank: w.wasteKwh === null ? null : i + 1,
            week: weekOut(w),
          })),
        }
      },
    )

    app.get(
      '/api/energy/buildings/:deviceId',
      {
        config: { access: { data: ['energy'] } },
        schema: {
          tags: ['energy'],
          description:
            "A building's half-hourly use (kWh) on a London day against its baseline band: the same weekday over the previous " +
            '4–8 weeks, matched by London clock time (median, and the 10th–90th percentile band, once 4 weeks have readings); ' +
            `the day so far against the usual by the same time; and the week's figures. ${WASTE}`,
          params: Params,
          querystring: z.object({ day: IsoDate.optional().describe('London date; default today') }),
          response: { 200: EnergyDay, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const d = await deps.devices.get(req.params.deviceId)
        // Missing, not a meter, or outside the caller's scope: one answer, so ids do not reveal what exists.
        if (d?.type !== 'meter' || !principalOf(req).scope.device(d.type, d.site))
          return sendError(reply, 404, 'NOT_FOUND', `no building meter ${req.params.deviceId}`)
        const now = Date.now()
        const day = req.query.day ? dayOf(req.query.day) : londonDayNumber(now)
        if (day === null) return sendError(reply, 400, 'BAD_REQUEST', `no such date: ${req.query.day}`)
        const monday = mondayOf(day)
        // The whole day, and the week up to now (or its end), whichever reaches further.
        const to = Math.max(startOfLondonDay(day + 1), Math.min(now, startOfLondonDay(monday + 7)))
        const series = await history(d, monday - HISTORY_DAYS, to)
        const rules = rulesFor(d)
        const profile = dayProfile(series, day, rules.aboveBaseline)
        const sf = soFar(series, day, now, rules.aboveBaseline)
        // No per cent of nothing: a usual of 0 kWh (just past midnight) compares only with another 0.
        const changePct =
          sf.usualKwh === null || (sf.usualKwh === 0 && sf.kwh > 0)
            ? null
            : sf.usualKwh === 0
              ? 0
              : Math.round(((sf.kwh - sf.usualKwh) / sf.usualKwh) * 100)
        return {
          deviceId: d.id,
          name: d.name,
          site: d.site,
          day: new Date(day * DAY_MS).toISOString().slice(0, 10),
          weekday: WEEKDAY.format(day * DAY_MS),
          tariffGbpPerKwh: deps.tariffGbpPerKwh,
          openHours: OPEN_HOURS_TEXT,
          halfHours: profile.slots.map((s) => ({ ...s, start: new Date(s.start).toISOString() })),
          baseline: {
            weeks: profile.weeks,
            needed: profile.needed,
            note:
              profile.weeks >= profile.needed
                ? null
                : `No baseline yet: it needs readings on ${profile.needed} earlier ${WEEKDAY.format(day * DAY_MS)}s (of the last 8), and there are ${profile.weeks}.`,
          },
          soFar: {
            at: new Date(sf.at).toISOString(),
            kwh: Math.round(sf.kwh * 10) / 10,
            usualKwh: sf.usualKwh === null ? null : Math.round(sf.usualKwh * 10) / 10,
            changePct,
          },
          week: weekOut(weekFigures(series, monday, now, deps.tariffGbpPerKwh, rules)),
        }
      },
    )
  }
