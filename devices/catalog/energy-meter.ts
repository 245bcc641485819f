import { z } from 'zod'
import { defineDeviceType } from './define.ts'

/**
 * Energy meter in a council building: cumulative register plus power
 * (domain.md §5.4; SmartMeteringObservation uses a cumulative register).
 */
export const MeterReadings = z.strictObject({
  energyWh: z.number().min(0).max(1e13),
  powerW: z.number().min(0).max(1e7),
})
export type MeterReadings = z.infer<typeof MeterReadings>

export const energyMeter = defineDeviceType({
  type: 'meter',
  title: 'Energy meter',
  measurement: 'meter',
  readings: MeterReadings,
  fields: {
    energyWh: { label: 'Energy register', unit: 'Wh' },
    powerW: { label: 'Power', unit: 'W', plausible: [0, 2e6] },
  },
  // domain.md §5.4: half-hourly settlement data.
  defaultIntervalS: 1800,
  // §3.5 item 21: demand from register deltas over real elapsed time; Wh per hour × 0.001 = kW.
  derive: [{ name: 'demandKw', from: 'energyWh', per: 'hour', scale: 0.001 }],
  rules: [
    {
      kind: 'threshold',
      id: 'meter-demand-high',
      title: 'Building demand high',
      text: 'This building is drawing much more power than usual right now.',
      field: 'powerW',
      direction: 'above',
      raiseAt: 100_000,
      clearAt: 80_000,
      consecutive: 2,
      severity: 'warning',
    },
    {
      // §3.5 item 20, §5.4 "Out-of-hours": 02:00–04:00 London demand against the lower decile of the last 28 nights.
      kind: 'baseline',
      id: 'energy-out-of-hours',
      title: 'Energy used out of hours',
      text: 'This building used more power overnight than it normally does. Lights, heating or equipment may have been left on.',
      severity: 'info',
      field: 'demandKw',
      from: '02:00',
      to: '04:00',
      quantile: 0.1,
      periods: 28,
      minPeriods: 7, // ours: a week of nights before judging
      marginRatio: 0.2, // ours
      margin: 1, // ours: 1 kW, so a building that is nearly off at night does not alert on noise
      forS: 3600, // ours: more than two half-hours
      maxGapS: 3600,
      priced: true,
    },
    {
      // §5.4 "Baseline method": a day against the same weekday's median over the last 4 to 8 weeks.
      kind: 'baseline',
      id: 'energy-above-baseline',
      title: 'Energy use above normal',
      text: 'This building used more energy today than on a usual day like it.',
      severity: 'info',
      field: 'demandKw',
      sameWeekday: true,
      periods: 8,
      minPeriods: 4,
      quantile: 0.5,
      marginRatio: 0.15, // ours
      compare: 'period',
      maxGapS: 3600,
      priced: true,
    },
  ],
})
