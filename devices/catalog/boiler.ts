import { z } from 'zod'
import { defineDeviceType } from './define.ts'

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
  },
  defaultIntervalS: 300,
  rules: [
    {
      id: 'boiler-pressure-low',
      title: 'Boiler pressure low',
      field: 'pressureBar',
      direction: 'below',
      raiseAt: 0.8,
      clearAt: 1.0,
      consecutive: 2,
      severity: 'warning',
    },
    {
      id: 'boiler-pressure-critical',
      title: 'Boiler pressure below lockout level',
      field: 'pressureBar',
      direction: 'below',
      raiseAt: 0.5,
      clearAt: 0.8,
      consecutive: 1,
      severity: 'critical',
    },
    {
      id: 'boiler-pressure-high',
      title: 'Boiler pressure high',
      field: 'pressureBar',
      direction: 'above',
      raiseAt: 2.5,
      clearAt: 2.3,
      consecutive: 2,
      severity: 'warning',
    },
    {
      id: 'boiler-lockout',
      title: 'Boiler locked out',
      field: 'lockout',
      direction: 'above',
      raiseAt: 1,
      clearAt: 1,
      consecutive: 1,
      severity: 'critical',
    },
  ],
})
