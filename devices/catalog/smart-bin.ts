import { z } from 'zod'
import { defineDeviceType } from './define.ts'

/**
 * Smart bin (ultrasonic fill sensor). Field names and units follow FIWARE
 * WasteContainer (fillingLevel as parts per one). Thresholds: domain.md §5.1
 * "Suggested simulator/threshold defaults" (full 95 %, clear below 70 %,
 * 2 consecutive; fire > 60 °C; tilt 2 consecutive; battery 20 %). Clearing a full bin
 * also takes 2 readings: a lid-open episode reads near-empty for one sample (§5.1).
 */
export const BinReadings = z.strictObject({
  fillingLevel: z.number().min(0).max(1),
  temperature: z.number().min(-50).max(200),
  batteryPct: z.number().min(0).max(100),
  tilted: z.boolean(),
})
export type BinReadings = z.infer<typeof BinReadings>

export const smartBin = defineDeviceType({
  type: 'bin',
  title: 'Smart bin',
  measurement: 'bin',
  readings: BinReadings,
  fields: {
    fillingLevel: { label: 'Fill level', unit: '/' },
    temperature: { label: 'Temperature', unit: 'Cel', plausible: [-30, 120] },
    batteryPct: { label: 'Battery', unit: '%' },
    tilted: { label: 'Tilted', unit: 'bool' },
  },
  // domain.md §5.1: bin mode reports every 1,200 s.
  defaultIntervalS: 1200,
  rules: [
    {
      id: 'bin-full',
      title: 'Bin full',
      field: 'fillingLevel',
      direction: 'above',
      raiseAt: 0.95,
      clearAt: 0.7,
      consecutive: 2,
      clearConsecutive: 2,
      severity: 'warning',
    },
    {
      id: 'bin-fire',
      title: 'Possible bin fire',
      field: 'temperature',
      direction: 'above',
      raiseAt: 60,
      clearAt: 45,
      consecutive: 1,
      severity: 'critical',
    },
    {
      id: 'bin-knocked-over',
      title: 'Bin knocked over',
      field: 'tilted',
      direction: 'above',
      raiseAt: 1,
      clearAt: 1,
      consecutive: 2,
      severity: 'warning',
    },
    {
      id: 'bin-battery-low',
      title: 'Bin sensor battery low',
      field: 'batteryPct',
      direction: 'below',
      raiseAt: 20,
      clearAt: 25,
      consecutive: 1,
      severity: 'info',
    },
  ],
})
