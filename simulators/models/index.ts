import type { DeviceType } from '#devices'
import type { Rng } from '../rng.ts'
import { type BinOptions, binModel } from './bin.ts'
import { type BoilerOptions, boilerModel } from './boiler.ts'
import { type MeterOptions, meterModel } from './meter.ts'
import type { DeviceModel } from './model.ts'
import { type RoomOptions, roomModel } from './room.ts'
import { type WeatherOptions, weatherModel } from './weather.ts'

export type ModelOptions = {
  bin: BinOptions
  boiler: BoilerOptions
  meter: MeterOptions
  room: RoomOptions
  weather: WeatherOptions
}

type Factory<O> = (rng: Rng, start: number, options?: O) => DeviceModel
// Keyed by every device type: a type added to the catalogue without a model fails to compile here.
const MODELS: { [T in DeviceType]: Factory<ModelOptions[T]> } = {
  bin: binModel,
  boiler: boilerModel,
  meter: meterModel,
  room: roomModel,
  weather: weatherModel,
}

export function createModel<T extends DeviceType>(type: T, rng: Rng, start: number, options: ModelOptions[T] = {}): DeviceModel {
  const factory = MODELS[type] as Factory<ModelOptions[T]> | undefined
  if (!factory) throw new Error(`no simulator model for device type ${type}`)
  return factory(rng, start, options)
}

export type { DeviceModel, Emission } from './model.ts'
export type { ClimateOptions, ColdSnap } from './weather.ts'
export type { BinOptions, BoilerOptions, MeterOptions, RoomOptions, WeatherOptions }
