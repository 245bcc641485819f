import type { z } from 'zod'
import { type CollectionTraits, DeriveSpec } from '../rules/device-eval.ts'
import { Rule, type RuleSpec } from '../rules/rule.ts'

export interface FieldMeta {
  label: string
  unit: string
  /** Values outside this band pass the schema but are flagged suspicious and not used for alerts. */
  plausible?: readonly [number, number]
}

export interface DeviceTypeDef<T extends string = string, S extends z.ZodObject = z.ZodObject> {
  type: T
  title: string
  /** InfluxDB measurement (design D6). */
  measurement: string
  readings: S
  fields: { [K in keyof z.infer<S>]-?: FieldMeta }
  defaultIntervalS: number
  /** The catalogue: rules are data (devices/rules), ids are an interface (API, dashboards, tests). */
  rules: readonly Rule[]
  /** Fields worked out from the previous reading, readable by rules (e.g. demand from a register). */
  derive?: readonly DeriveSpec[]
  /** How the readings show a collection (bins): detected collections feed bin-not-collected and the forecast deadline. */
  collections?: CollectionTraits
  /** Fields this type supplies to the other devices of its site (a weather sensor's outsideTemp). */
  toSite?: readonly string[]
  /** Values the engine supplies from the device's site when the reading lacks them (e.g. outsideTemp from a weather sensor). */
  fromSite?: readonly string[]
}

/** Parses the rules once at module load so a bad catalogue rule fails at start, not at first reading. */
export function defineDeviceType<T extends string, S extends z.ZodObject>(
  def: Omit<DeviceTypeDef<T, S>, 'rules' | 'derive'> & { rules: readonly RuleSpec[]; derive?: readonly z.input<typeof DeriveSpec>[] },
): DeviceTypeDef<T, S> {
  const { rules: specs, derive, ...rest } = def
  const rules = specs.map((r) => Rule.parse(r))
  const ids = new Set(rules.map((r) => r.id))
  if (ids.size !== rules.length) throw new Error(`${def.type}: rule ids must be unique`)
  return { ...rest, rules, ...(derive && { derive: derive.map((d) => DeriveSpec.parse(d)) }) }
}
