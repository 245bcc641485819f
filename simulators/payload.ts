import { type DeviceType, deviceTypeOf } from '#devices'

export type PayloadFormat = 'json' | 'senml'

/** Native JSON, or the same reading as a SenML pack (RFC 8428) with the base name urn:dev:sp:<id>:. */
export function encodeReading(
  format: PayloadFormat,
  type: DeviceType,
  id: string,
  ts: number,
  seq: number,
  readings: Record<string, unknown>,
): string {
  if (format === 'json') return JSON.stringify({ ts, seq, readings })
  const fields = deviceTypeOf(type)!.fields as Record<string, { unit: string }>
  const records = Object.entries(readings).map(([n, v], i) => {
    const base = i === 0 ? { bn: `urn:dev:sp:${id}:`, bt: ts / 1000 } : {}
    const unit = fields[n]?.unit
    const value = typeof v === 'boolean' ? { vb: v } : typeof v === 'string' ? { vs: v } : { v }
    return { ...base, n, ...(unit && unit !== 'bool' && unit !== 'code' ? { u: unit } : {}), ...value }
  })
  return JSON.stringify(records)
}
