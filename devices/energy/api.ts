import { z } from 'zod'

/** What GET /api/energy/buildings and /api/energy/buildings/:deviceId answer (issue 11, energy manager). */

export const EnergyWeek = z.object({
  from: z.iso.datetime().describe('Monday 00:00 London'),
  to: z.iso.datetime().describe('now, or the end of the week when it is over'),
  usedKwh: z.number().describe('all energy used in the week so far'),
  outOfHoursKwh: z.number().describe('energy used outside 07:00–19:00 on working days'),
  wasteKwh: z
    .number()
    .nullable()
    .describe(
      'out-of-hours waste: in each out-of-hours half-hour whose demand is beyond the energy-out-of-hours tolerance (base load × 1.2 + 1 kW unless overridden), the energy above the base load; null until the base load is known',
    ),
  wasteGbp: z.number().nullable().describe('wasteKwh at the tariff (ENERGY_TARIFF_GBP_PER_KWH), in £'),
  baseLoadKw: z.number().nullable().describe('lower decile of the mean 02:00–04:00 London demand of the last 28 nights before the week'),
  nights: z.number().int().describe('nights the base load comes from'),
  nightsNeeded: z.number().int(),
  usualKwh: z.number().nullable().describe('median use over the same span of the previous 4–8 weeks'),
  weeks: z.number().int(),
  weeksNeeded: z.number().int(),
  toleranceRatio: z
    .number()
    .describe('energy-out-of-hours marginRatio (with overrides): demand beyond base × (1 + this) + toleranceKw is waste'),
  toleranceKw: z.number().describe('energy-out-of-hours margin in kW (with overrides)'),
  /** Why a figure is missing, in words; null when all are there. */
  note: z.string().nullable(),
})
export type EnergyWeek = z.infer<typeof EnergyWeek>

export const EnergyBuilding = z.object({
  deviceId: z.string(),
  name: z.string(),
  site: z.string(),
  /** 1 = most waste; null when the waste is not known yet. */
  rank: z.number().int().nullable(),
  week: EnergyWeek,
})
export type EnergyBuilding = z.infer<typeof EnergyBuilding>

export const EnergyBuildings = z.object({
  tariffGbpPerKwh: z.number(),
  openHours: z.string(),
  buildings: z.array(EnergyBuilding),
})
export type EnergyBuildings = z.infer<typeof EnergyBuildings>

export const EnergyHalfHour = z.object({
  start: z.iso.datetime(),
  time: z.string().describe('London clock, HH:MM'),
  kwh: z.number().nullable(),
  median: z.number().nullable(),
  low: z.number().nullable().describe('10th percentile of the past same weekdays'),
  high: z.number().nullable().describe('90th percentile'),
})
export type EnergyHalfHour = z.infer<typeof EnergyHalfHour>

export const EnergyDay = z.object({
  deviceId: z.string(),
  name: z.string(),
  site: z.string(),
  day: z.string().describe('YYYY-MM-DD, London'),
  weekday: z.string(),
  tariffGbpPerKwh: z.number(),
  openHours: z.string(),
  halfHours: z.array(EnergyHalfHour),
  baseline: z.object({
    weeks: z.number().int().describe('past same weekdays with readings (of the last 8)'),
    needed: z.number().int(),
    /** Why there is no band yet, in words; null when there is one. */
    note: z.string().nullable(),
  }),
  soFar: z.object({
    at: z.iso.datetime(),
    kwh: z.number(),
    usualKwh: z.number().nullable(),
    changePct: z
      .number()
      .nullable()
      .describe('kwh against usualKwh, in %; positive is above the usual; null without a usual or when the usual is 0 kWh'),
  }),
  week: EnergyWeek,
})
export type EnergyDay = z.infer<typeof EnergyDay>
