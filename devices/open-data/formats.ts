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

/**
 * A format written a row at a time, so a response of any length streams in constant memory (D14).
 * Made per response: it remembers whether a separator is owed. `row` answers '' for a row the
 * format cannot carry (a feature with no position).
 */
export interface RowWriter<Row> {
  head: string
  row(r: Row): string
  tail: string
}

/**
 * RFC 4180: a header row of the schema's field names, CRLF after every record (UTF-8 by the caller).
 * Rows of one thing in a row (a bin's 365 days) repeat their leading cells: the text of the longest
 * leading run equal to the previous row's is reused, not made again, so a year-long stream makes
 * little garbage per row.
 */
export function csvWriter<Row extends Record<string, unknown>>(schema: z.ZodObject): RowWriter<Row> {
  const columns = Object.keys(schema.shape)
  const previous: unknown[] = new Array(columns.length)
  // prefixes[k]: the text of the previous row's first k cells, each followed by a comma.
  const prefixes: string[] = ['']
  return {
    head: `${columns.map(csvCell).join(',')}\r\n`,
    row(r) {
      let k = 0
      while (k < prefixes.length - 1 && k < columns.length - 1 && r[columns[k]!] === previous[k]) k++
      let line = prefixes[k]!
      prefixes.length = k + 1
      for (let i = k; i < columns.length; i++) {
        const v = r[columns[i]!]
        previous[i] = v
        if (i === columns.length - 1) line += csvCell(v)
        else {
          line += `${csvCell(v)},`
          prefixes.push(line)
        }
      }
      return `${line}\r\n`
    },
    tail: '',
  }
}

export function toCsv(schema: z.ZodObject, rows: readonly Record<string, unknown>[]): string {
  const w = csvWriter(schema)
  return w.head + rows.map(w.row).join('') + w.tail
}

interface Placed {
  latitude: number | null
  longitude: number | null
}
export const hasPosition = <R extends Placed>(r: R): r is R & { latitude: number; longitude: number } =>
  r.latitude !== null && r.longitude !== null

/** An RFC 7946 Point feature, [longitude, latitude], the row's other fields its properties. */
function feature<R extends Placed>(r: R & { latitude: number; longitude: number }, id: string) {
  const { latitude, longitude, ...properties } = r
  return { type: 'Feature' as const, id, geometry: { type: 'Point' as const, coordinates: [longitude, latitude] }, properties }
}

/** RFC 7946 FeatureCollection: a Point per bin; a bin with no position has no feature. */
export function binsToGeoJson(rows: readonly BinFillRow[]) {
  return { type: 'FeatureCollection' as const, features: rows.filter(hasPosition).map((r) => feature(r, r.id)) }
}

/** JSON items between `head` and `tail`, comma-separated; `item` null leaves a row out. */
export function jsonItemsWriter<Row>(head: string, tail: string, item: (r: Row) => unknown): RowWriter<Row> {
  let first = true
  return {
    head,
    row(r) {
      const value = item(r)
      if (value === null) return ''
      const text = JSON.stringify(value)
      if (first) {
        first = false
        return text
      }
      return `,${text}`
    },
    tail,
  }
}

/** The same FeatureCollection a feature at a time; `idOf` names each feature uniquely (a bin, a bin's day…). */
export const geoJsonWriter = <Row extends Placed>(idOf: (r: Row) => string): RowWriter<Row> =>
  jsonItemsWriter('{"type":"FeatureCollection","features":[', ']}', (r: Row) => (hasPosition(r) ? feature(r, idOf(r)) : null))

export const WASTE_CONTEXT = 'https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/master/context.jsonld'
export const NGSI_LD_CORE_CONTEXT = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld'

/** An NGSI-LD typed DateTime value, as the Smart Data Models normalized examples write one. */
export const dateTime = (v: string) => ({ '@type': 'DateTime', '@value': v })

/**
 * NGSI-LD normalized WasteContainer entities (Smart Data Models). `location` is required by the
 * model, so, as in GeoJSON, a bin with no position is left out; unknown values are left out, not null.
 */
export function binsToNgsiLd(rows: readonly BinFillRow[]) {
  return rows.filter(hasPosition).map(wasteContainer)
}

/** The same entities one at a time, as a JSON array. */
export const ngsiLdWasteWriter = (): RowWriter<BinFillRow> =>
  jsonItemsWriter('[', ']', (r: BinFillRow) => (hasPosition(r) ? wasteContainer(r) : null))

function wasteContainer(r: BinFillRow & { latitude: number; longitude: number }) {
  return {
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
  }
}
