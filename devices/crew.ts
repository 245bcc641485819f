import { z } from 'zod'
import { AlertStatus } from './alerts/alert.ts'
import { Severity } from './alerts/rule.ts'
import { CREW_MAX_BINS } from './crew-limits.ts'

export { CREW_FIRST_PAGE, CREW_MAX_BINS } from './crew-limits.ts'

/** Alerts that put a bin at the top of the list whatever its fill: danger before overflow. */
export const URGENT_BIN_RULES = ['bin-fire', 'bin-knocked-over'] as const

/** An open alert on a bin, as much as the crew's list shows: no people's names or notes, so any reader may see it. */
export const CrewAlert = z.object({
  id: z.string(),
  ruleId: z.string(),
  title: z.string(),
  severity: Severity,
  status: AlertStatus,
  raisedAt: z.string().describe('ISO 8601'),
})
export type CrewAlert = z.infer<typeof CrewAlert>

export const CrewBin = z.object({
  id: z.string(),
  name: z.string(),
  site: z.string(),
  latitude: z.number().nullable(),
  longitude: z.number().nullable(),
  fill: z.number().min(0).max(1).nullable().describe('latest fill level, parts per one (null: no reading yet)'),
  fillAt: z.string().nullable().describe('time of that reading, ISO 8601'),
  fullAt: z.string().nullable().describe('when the fill forecast says it will be full, ISO 8601 (null: not known)'),
  nextCollection: z.string().nullable().describe('next scheduled collection, ISO 8601 (null: none scheduled)'),
  fullBeforeCollection: z.boolean().nullable().describe('will it be full before that collection (null: not known)'),
  collectedAt: z.string().nullable().describe('latest collection recorded today (Europe/London), ISO 8601'),
  stop: z
    .object({ round: z.string(), number: z.number().int().min(1), of: z.number().int().min(1) })
    .nullable()
    .describe('its place along its round, in the order the round is driven (null: on no round)'),
  alerts: z.array(CrewAlert).describe('open alerts, fire and knocked over first'),
})
export type CrewBin = z.infer<typeof CrewBin>

export const CrewToday = z.object({
  generatedAt: z.string().describe('ISO 8601'),
  total: z.number().int().describe(`bins the caller may see; the list holds the first ${CREW_MAX_BINS}`),
  mapTileUrl: z.string().nullable().describe('Leaflet tile URL template (MAP_TILE_URL); null: markers on a blank map'),
  bins: z.array(CrewBin).describe('fire and knocked over first, then overflowing before the next collection (soonest first), then fullest'),
})
export type CrewToday = z.infer<typeof CrewToday>

/**
 * How many of the list to send: a phone asks for the top first (its screen shows a few dozen rows, and
 * on a weak signal the first rows come a second sooner), then the whole list for the map.
 */
export const CrewTodayQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(CREW_MAX_BINS)
    .optional()
    .describe(`at most this many bins (1–${CREW_MAX_BINS}); unset: ${CREW_MAX_BINS}`),
})

/** Whether full comes before the next collection: null when either is unknown, false when it is not filling. */
export function fullBefore(o: { ratePerDay: number | null; reachesAt: string | null }, next: number | null): boolean | null {
  if (next === null) return null
  if (o.reachesAt === null) return o.ratePerDay === null ? null : false
  return Date.parse(o.reachesAt) < next
}

const urgency = (ruleId: string) => {
  const i = (URGENT_BIN_RULES as readonly string[]).indexOf(ruleId)
  return i < 0 ? URGENT_BIN_RULES.length : i
}
const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 }

/** Fire, then knocked over, then by severity, then newest. */
export function compareCrewAlerts(a: CrewAlert, b: CrewAlert): number {
  return (
    urgency(a.ruleId) - urgency(b.ruleId) ||
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    Date.parse(b.raisedAt) - Date.parse(a.raisedAt)
  )
}

/** 0 fire, 1 knocked over, 2 will overflow before its collection, 3 the rest. */
function rank(b: CrewBin): number {
  const urgent = Math.min(...b.alerts.map((a) => urgency(a.ruleId)))
  if (urgent < URGENT_BIN_RULES.length) return urgent
  return b.fullBeforeCollection === true ? URGENT_BIN_RULES.length : URGENT_BIN_RULES.length + 1
}

const soonest = (b: CrewBin) => (b.fullBeforeCollection === true && b.fullAt !== null ? Date.parse(b.fullAt) : Number.POSITIVE_INFINITY)

/** The order of today's list (alerts within each bin are expected sorted already). */
export function compareCrewBins(a: CrewBin, b: CrewBin): number {
  return (
    rank(a) - rank(b) ||
    // Infinity - Infinity is NaN: equal here.
    (soonest(a) === soonest(b) ? 0 : soonest(a) - soonest(b)) ||
    (b.fill ?? -1) - (a.fill ?? -1) ||
    a.name.localeCompare(b.name, 'en-GB') ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  )
}
