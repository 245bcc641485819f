import type { DeviceType } from '#devices'
import type { Rng } from '../rng.ts'
import { type BinOptions, binModel } from './bin.ts'
import { type BoilerOptions, boilerModel } from './boiler.ts'
import { type MeterOptions, meterModel } from './meter.ts'
import type { DeviceModel } from './model.ts'

export type ModelOptions = { bin: BinOptions; boiler: BoilerOptions; meter: MeterOptions }

export function createModel<T extends DeviceType>(type: T, rng: Rng, start: number, options: ModelOptions[T] = {}): DeviceModel {
  switch (type) {
    case 'bin':
      return binModel(rng, start, options as BinOptions)
    case 'boiler':
      return boilerModel(rng, start, options as BoilerOptions)
    case 'meter':
      return meterModel(rng, start, options as MeterOptions)
    default:
      throw new Error(`no simulator model for device type ${type}`)
  }
}

export type { DeviceModel, Emission } from './model.ts'
