import type { z } from 'zod'
import type { BinFillRow } from './datasets.ts'

/**
 * Serialisers of rows already parsed through their dataset's allow-list: they see only the
 * declared fields, so no format can leak another (D14). Pure functions; the routes do the I/O.
 */

/**
 * Only the fields the schema declares; anything else in a row is dropped. A row that does not fit
 * its declared fields (a fill reading out of 0–1) is left out rather than published half-checked.
 */
export function allowListed<S extends z.ZodObject>(schema: S, rows: readonly unknown[]): z.infer<S>[] {
  return rows.flatMap((r) => {
    const parsed = schema.safeParse(r)
    return parsed.success ? [parsed.data] : []
  })
}

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return ''
  const s = typeof v === 'string' ? v : String(v)
  // RFC 4180 §2.6/2.7: quote a field with a comma, quote or line break, doubling its quotes.
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/** RFC 4180: a header row of the schema's field names, CRLF after every record (UTF-8 by the caller). */
export function toCsv(schema: z.ZodObject, rows: readonly Record<string, unknown>[]): string {
  const columns = Object.keys(schema.shape)
  const lines = [columns.map(csvCell).join(',')]
  for (const r of rows) lines.push(columns.map((c) => csvCell(r[c])).join(','))
  return `${lines.join('\r\n')}\r\n`
}

const hasPosition = (r: BinFillRow): r is BinFillRow & { latitude: number; longitude: number } =>
  r.latitude !== null && r.longitude !== null

/** RFC 7946 FeatureCollection: a Point per bin, [longitude, latitude]; a bin with no position has no feature. */
export function binsToGeoJson(rows: readonly BinFillRow[]) {
  return {
    type: 'FeatureCollection' as const,
    features: rows.filter(hasPosition).map(({ latitude, longitude, ...properties }) => ({
      type: 'Feature' as const,
      id: properties.id,
      geometry: { type: 'Point' as const, coordinates: [longitude, latitude] },
      properties,
    })),
  }
}

export const WASTE_CONTEXT = 'https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/master/context.jsonld'
export const NGSI_LD_CORE_CONTEXT = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld'

const dateTime = (v: string) => ({ '@type': 'DateTime', '@value': v })

/**
 * NGSI-LD normalized WasteContainer entities (Smart Data Models). `location` is required by the
 * model, so, as in GeoJSON, a bin with no position is left out; unknown values are left out, not null.
 */
export function binsToNgsiLd(rows: readonly BinFillRow[]) {
  return rows.filter(hasPosition).map((r) => ({
    id: `urn:ngsi-ld:WasteContainer:${r.id}`,
    type: 'WasteContainer' as const,
    name: { type: 'Property' as const, value: r.name },
    ...(r.fillingLevel === null
      ? {}
      : {
          fillingLevel: {
            type: 'Property' as const,
            value: r.fillingLevel,
            ...(r.observedAt === null ? {} : { observedAt: r.observedAt }),
          },
        }),
    ...(r.dateLastEmptying === null ? {} : { dateLastEmptying: { type: 'Property' as const, value: dateTime(r.dateLastEmptying) } }),
    location: { type: 'GeoProperty' as const, value: { type: 'Point' as const, coordinates: [r.longitude, r.latitude] } },
    '@context': [WASTE_CONTEXT, NGSI_LD_CORE_CONTEXT],
  }))
}
