import type { DeviceType } from '#devices'
import type { Rng } from '../rng.ts'
import { binProfile } from './bin.ts'
import { boilerProfile } from './boiler.ts'
import { meterProfile } from './meter.ts'

export type Profile = (simTime: number) => Record<string, number | boolean | string>

export const PROFILES: Record<DeviceType, (rng: Rng, start: number) => Profile> = {
  bin: binProfile,
  boiler: boilerProfile,
  meter: meterProfile,
}
