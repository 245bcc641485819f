import type { z } from 'zod'
import { AlertRule, type AlertRuleInput } from '../alerts/rule.ts'

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
  rules: readonly AlertRule[]
}

/** Parses the rules once at module load so a bad default rule fails at start, not at first reading. */
export function defineDeviceType<T extends string, S extends z.ZodObject>(
  def: Omit<DeviceTypeDef<T, S>, 'rules'> & { rules: readonly AlertRuleInput[] },
): DeviceTypeDef<T, S> {
  return { ...def, rules: def.rules.map((r) => AlertRule.parse(r)) }
}
