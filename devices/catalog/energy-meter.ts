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
  rules: [
    {
      id: 'meter-demand-high',
      title: 'Building demand high',
      field: 'powerW',
      direction: 'above',
      raiseAt: 100_000,
      clearAt: 80_000,
      consecutive: 2,
      severity: 'warning',
    },
  ],
})
