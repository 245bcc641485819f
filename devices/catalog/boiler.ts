import { z } from 'zod'
import type { Condition } from '../rules/base.ts'
import { dampRisk } from './damp.ts'
import { defineDeviceType } from './define.ts'

/** Cold readings: burner off and flow below 40 °C (issue 9), when pressure is the system's resting pressure. */
const COLD: Condition[] = [
  { field: 'burnerOn', op: 'eq', value: 0 },
  { field: 'flowTemp', op: 'lt', value: 40 },
]

/**
 * Housing boiler (OpenTherm gateway). Thresholds: domain.md §5.2 "Suggested
 * simulator/threshold defaults" (low < 0.8 bar warning, < 0.5 bar critical
 * lockout; high > 2.5 bar; lockout on any lockout flag; report every 5 min).
 */
export const BoilerReadings = z.strictObject({
  flowTemp: z.number().min(-20).max(110),
  returnTemp: z.number().min(-20).max(110),
  pressureBar: z.number().min(0).max(6),
  burnerOn: z.boolean(),
  lockout: z.boolean(),
  // Manufacturer fault code as shown on the boiler, e.g. "EA227" or "F.22"; always a string field in InfluxDB.
  faultCode: z
    .string()
    .regex(/^[A-Za-z0-9.]{1,8}$/)
    .optional(),
  roomHumidity: z.number().min(0).max(100).optional(),
  // OpenTherm reports the outside sensor when one is fitted; otherwise the site's weather sensor stands in.
  outsideTemp: z.number().min(-40).max(50).optional(),
  // Central heating demanded by the thermostat (OpenTherm CH enable).
  heatingDemand: z.boolean().optional(),
})
export type BoilerReadings = z.infer<typeof BoilerReadings>

export const boiler = defineDeviceType({
  type: 'boiler',
  title: 'Boiler',
  measurement: 'boiler',
  readings: BoilerReadings,
  fields: {
    flowTemp: { label: 'Flow temperature', unit: 'Cel', plausible: [0, 95] },
    returnTemp: { label: 'Return temperature', unit: 'Cel', plausible: [0, 95] },
    pressureBar: { label: 'Pressure', unit: 'bar', plausible: [0, 4] },
    burnerOn: { label: 'Burner on', unit: 'bool' },
    lockout: { label: 'Lockout', unit: 'bool' },
    faultCode: { label: 'Fault code', unit: 'code' },
    roomHumidity: { label: 'Room humidity', unit: '%RH' },
    outsideTemp: { label: 'Outside temperature', unit: 'Cel', plausible: [-30, 45] },
    heatingDemand: { label: 'Heating demanded', unit: 'bool' },
  },
  fromSite: ['outsideTemp'],
  defaultIntervalS: 300,
  rules: [
    {
      // §5.2: low < 0.8 bar. Judged on cold readings only: pressure rises about 0.5 bar when the system is hot.
      kind: 'threshold',
      id: 'boiler-pressure-low',
      title: 'Boiler pressure low',
      text: 'The heating system pressure is low. It can usually be topped up at the filling loop; if it keeps dropping, book an engineer.',
      severity: 'warning',
      field: 'pressureBar',
      direction: 'below',
      raiseAt: 0.8,
      clearAt: 1.0,
      consecutive: 2,
      when: COLD,
    },
    {
      kind: 'threshold',
      id: 'boiler-pressure-critical',
      title: 'Boiler pressure below lockout level',
      text: 'The pressure is below the level at which the boiler shuts down. The home may have no heating or hot water.',
      severity: 'critical',
      field: 'pressureBar',
      direction: 'below',
      raiseAt: 0.5,
      clearAt: 0.8,
      when: COLD,
    },
    {
      // §5.2 defaults: slow leak = −0.1 bar/day sustained over 3 days, seen days before 0.8 bar.
      kind: 'trend',
      id: 'boiler-pressure-falling',
      title: 'Boiler pressure falling',
      text: 'The heating system is slowly losing pressure, which usually means a small leak. Book a check before the boiler stops.',
      severity: 'warning',
      field: 'pressureBar',
      windowS: 3 * 86_400,
      minSpanS: 2.5 * 86_400, // ours: most of the three days, so a fresh leak is seen a day or more before 0.8 bar
      per: 'day',
      direction: 'below',
      raiseAt: -0.1,
      clearAt: -0.03, // ours
      minPoints: 24, // ours: at least two hours of cold readings
      when: COLD,
    },
    {
      // §5.2: high > 2.5 bar. Cold and high: the system was overfilled.
      kind: 'threshold',
      id: 'boiler-pressure-high',
      title: 'Boiler pressure high',
      text: 'The pressure is high while the system is cold, which usually means it was overfilled. An engineer should bleed it down.',
      severity: 'warning',
      field: 'pressureBar',
      direction: 'above',
      raiseAt: 2.5,
      clearAt: 2.3,
      consecutive: 2,
      when: COLD,
    },
    {
      // Normal when cold, over 2.5 bar when hot: the expansion vessel has lost its charge.
      kind: 'threshold',
      id: 'boiler-expansion-vessel',
      title: 'Expansion vessel may need recharging',
      text: 'The pressure is normal when cold but climbs over 2.5 bar when the heating runs. The expansion vessel probably needs recharging by an engineer.',
      severity: 'warning',
      field: 'pressureBar',
      direction: 'above',
      raiseAt: 2.5,
      clearAt: 2.3,
      consecutive: 2,
      when: [{ field: 'burnerOn', op: 'eq', value: 1 }],
    },
    {
      kind: 'threshold',
      id: 'boiler-lockout',
      title: 'Boiler locked out',
      text: 'The boiler has shut itself down. The fault code says whether the resident can reset it or an engineer is needed.',
      severity: 'critical',
      field: 'lockout',
      direction: 'above',
      raiseAt: 1,
      clearAt: 1,
    },
    {
      // §5.2 defaults: "escalate after 3 lockouts in 24 h"; critical per issue 9.
      kind: 'count',
      id: 'boiler-lockouts-repeated',
      title: 'Boiler keeps locking out',
      text: 'The boiler has shut itself down three or more times in a day. An engineer is needed.',
      severity: 'critical',
      field: 'lockout',
      level: 1,
      atLeast: 3,
      windowS: 86_400,
    },
    {
      // §5.2 defaults: heating demanded but flow < 35 °C for 60 min while outside < 5 °C.
      kind: 'threshold',
      id: 'boiler-no-heat',
      title: 'No heat',
      text: 'The heating is asked for but the radiators are not getting hot, and it is cold outside. The household may need an urgent visit.',
      severity: 'warning',
      field: 'flowTemp',
      direction: 'below',
      raiseAt: 35,
      clearAt: 40, // ours
      forS: 3600,
      when: [
        { field: 'heatingDemand', op: 'eq', value: 1 },
        { field: 'outsideTemp', op: 'lt', value: 5 },
      ],
      otherwise: 'reset',
      escalation: { afterS: 4 * 3600, to: 'critical' }, // ours
    },
    dampRisk('roomHumidity'),
  ],
})
