import { boiler } from './boiler.ts'
import type { DeviceTypeDef } from './define.ts'
import { energyMeter } from './energy-meter.ts'
import { room } from './room.ts'
import { smartBin } from './smart-bin.ts'
import { weather } from './weather.ts'

export const DEVICE_TYPES = { bin: smartBin, boiler, meter: energyMeter, room, weather } as const
export type DeviceType = keyof typeof DEVICE_TYPES
export const DEVICE_TYPE_NAMES = Object.keys(DEVICE_TYPES) as DeviceType[]

export function deviceTypeOf(name: string): DeviceTypeDef | undefined {
  return Object.hasOwn(DEVICE_TYPES, name) ? (DEVICE_TYPES[name as DeviceType] as DeviceTypeDef) : undefined
}

export { BoilerReadings } from './boiler.ts'
export type { DeviceTypeDef, FieldMeta } from './define.ts'
export { MeterReadings } from './energy-meter.ts'
export { RoomReadings } from './room.ts'
export { BinReadings } from './smart-bin.ts'
export { WeatherReadings } from './weather.ts'
