import { z } from 'zod'
import { dampRisk } from './damp.ts'
import { defineDeviceType } from './define.ts'

/**
 * Room sensor in a home (temperature and relative humidity), the kind landlords fit in bedrooms
 * and bathrooms (domain.md §3.4, §5.3). LoRaWAN room sensors typically report every 10–15 minutes.
 */
export const RoomReadings = z.strictObject({
  temperature: z.number().min(-20).max(60),
  humidity: z.number().min(0).max(100),
  batteryPct: z.number().min(0).max(100).optional(),
})
export type RoomReadings = z.infer<typeof RoomReadings>

export const room = defineDeviceType({
  type: 'room',
  title: 'Room sensor',
  measurement: 'room',
  readings: RoomReadings,
  fields: {
    temperature: { label: 'Room temperature', unit: 'Cel', plausible: [-10, 45] },
    humidity: { label: 'Relative humidity', unit: '%RH' },
    batteryPct: { label: 'Battery', unit: '%' },
  },
  defaultIntervalS: 900,
  rules: [dampRisk('humidity')],
})
