import { z } from 'zod'
import { defineDeviceType } from './define.ts'

/**
 * A site's weather sensor: outdoor temperature and humidity. Its temperature is the outside
 * temperature of the site's boilers that have no OpenTherm outside sensor (boiler-no-heat).
 */
export const WeatherReadings = z.strictObject({
  outsideTemp: z.number().min(-40).max(50),
  humidity: z.number().min(0).max(100).optional(),
})
export type WeatherReadings = z.infer<typeof WeatherReadings>

export const weather = defineDeviceType({
  type: 'weather',
  title: 'Weather sensor',
  measurement: 'weather',
  readings: WeatherReadings,
  fields: {
    outsideTemp: { label: 'Outside temperature', unit: 'Cel', plausible: [-30, 45] },
    humidity: { label: 'Outdoor humidity', unit: '%RH' },
  },
  defaultIntervalS: 600,
  toSite: ['outsideTemp'],
  rules: [],
})
