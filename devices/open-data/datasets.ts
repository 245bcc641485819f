import { z } from 'zod'
import { ngsiLdWasteWriter, type RowWriter } from './formats.ts'
import { ngsiLdDailyWriter, ngsiLdHalfHourWriter } from './ngsi-ld-energy.ts'

/** Open Government Licence v3.0: the default for every dataset (a council may configure another). */
export const OGL_V3 = 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/'

/**
 * Where a dataset's rows come from. A closed union with no housing type in it: a dataset over
 * boilers or rooms cannot be written down, so no setting, role or query can publish one (D14).
 */
export type DatasetSource = 'bin' | 'meter' | 'health'

/** Fails to compile if a housing device type is ever added to DatasetSource. */
type NoHousing = Extract<DatasetSource, 'boiler' | 'room'> extends never ? true : false
export const DATASET_SOURCES_EXCLUDE_HOUSING: NoHousing = true

export const OpenFormat = z.enum(['csv', 'geojson', 'jsonld'])
export type OpenFormat = z.infer<typeof OpenFormat>

export const OPEN_MEDIA_TYPES: Record<OpenFormat, string> = {
  csv: 'text/csv',
  geojson: 'application/geo+json',
  jsonld: 'application/ld+json',
}

/** EU frequency vocabulary (http://publications.europa.eu/resource/authority/frequency/…). */
export type Frequency = 'CONT' | 'DAILY'

const isoTime = z.iso.datetime({ offset: true })

/** Where a public thing stands (WGS 84); null when the council has not placed it. Key order is the CSV's column order. */
const PLACE = {
  latitude: z.number().min(-90).max(90).nullable(),
  longitude: z.number().min(-180).max(180).nullable(),
}

/** A street bin's latest state; bins are public street furniture, so their place may be shown. */
export const BinFillRow = z.object({
  id: z.string(),
  name: z.string(),
  site: z.string(),
  ...PLACE,
  fillingLevel: z.number().min(0).max(1).nullable(),
  observedAt: isoTime.nullable(),
  dateLastEmptying: isoTime.nullable(),
})
export type BinFillRow = z.infer<typeof BinFillRow>

/** A street bin's day (a London calendar day): its fill from every reading that day, and its emptyings. */
export const BinFillDailyRow = z.object({
  id: z.string(),
  name: z.string(),
  site: z.string(),
  ...PLACE,
  date: z.iso.date(),
  fillingLevelMean: z.number().min(0).max(1),
  fillingLevelMax: z.number().min(0).max(1),
  readings: z.number().int().min(1),
  emptyings: z.number().int().min(0),
})
export type BinFillDailyRow = z.infer<typeof BinFillDailyRow>

/** One public building's consumption in one half-hour; buildings are named by the council, no occupant data. */
export const EnergyHalfHourRow = z.object({
  buildingId: z.string(),
  buildingName: z.string(),
  site: z.string(),
  ...PLACE,
  start: isoTime,
  kWh: z.number().min(0),
})
export type EnergyHalfHourRow = z.infer<typeof EnergyHalfHourRow>

/** One public building's consumption on one London calendar day, and how many of its half-hours are known. */
export const EnergyDailyRow = z.object({
  buildingId: z.string(),
  buildingName: z.string(),
  site: z.string(),
  ...PLACE,
  date: z.iso.date(),
  kWh: z.number().min(0),
  halfHoursKnown: z.number().int().min(1).max(50),
  halfHoursInDay: z.number().int().min(46).max(50),
})
export type EnergyDailyRow = z.infer<typeof EnergyDailyRow>

/** How many devices of a (non-housing) type are online in an area. */
export const ServiceHealthRow = z.object({
  type: z.enum(['bin', 'meter']),
  area: z.string(),
  online: z.number().int().min(0),
  total: z.number().int().min(0),
})
export type ServiceHealthRow = z.infer<typeof ServiceHealthRow>

/** How many readings sensors of a (non-housing) type in an area sent on one London day. */
export const ServiceReadingsDailyRow = z.object({
  type: z.enum(['bin', 'meter']),
  area: z.string(),
  date: z.iso.date(),
  readings: z.number().int().min(1),
})
export type ServiceReadingsDailyRow = z.infer<typeof ServiceReadingsDailyRow>

/** How a dataset's rows become NGSI-LD entities: the Smart Data Model, and a writer of its rows. */
export interface NgsiLdMapping<Row> {
  /** The Smart Data Models entity type, named to readers on the page. */
  model: string
  /** A new writer for one response. */
  writer: () => RowWriter<Row>
}

export interface DatasetDefinition<Row extends z.ZodObject = z.ZodObject> {
  id: string
  title: string
  /** Plain English: a reader outside the council must understand it without us. */
  description: string
  keywords: readonly string[]
  frequency: Frequency
  licence: string
  source: DatasetSource
  /** The allow-list: rows are parsed with it (unknown keys stripped) before any format sees them. */
  fields: Row
  /** The formats served; the catalogue offers exactly these. */
  formats: readonly OpenFormat[]
  /** A history answers a time window (`from`, `to`), from InfluxDB aggregates; a snapshot is now. */
  history: boolean
  /** Exactly when `formats` has jsonld (NGSI_LD_MATCHES_FORMATS below checks it, and that it writes these rows). */
  ngsiLd?: NgsiLdMapping<z.infer<Row>>
}

export const DATASETS = [
  {
    id: 'bin-fill-latest',
    title: 'Street bin fill levels (latest)',
    description:
      'How full each council street litter bin is right now, from its sensor, with where it stands and when it was last emptied. Fill is a fraction from 0 (empty) to 1 (full).',
    keywords: ['waste', 'bins', 'litter', 'street furniture', 'fill level'],
    frequency: 'CONT',
    licence: OGL_V3,
    source: 'bin',
    fields: BinFillRow,
    formats: ['csv', 'geojson', 'jsonld'],
    history: false,
    ngsiLd: { model: 'WasteContainer', writer: ngsiLdWasteWriter },
  },
  {
    id: 'bin-fill-daily',
    title: 'Street bin fill levels (daily history)',
    description:
      'For each council street litter bin and each day (London time), its average and highest fill from its sensor, how many readings that was from, and how many times it was emptied. Fill is a fraction from 0 (empty) to 1 (full). Ask for a window with from and to (dates); the last year by default.',
    keywords: ['waste', 'bins', 'litter', 'street furniture', 'fill level', 'collections'],
    frequency: 'DAILY',
    licence: OGL_V3,
    source: 'bin',
    fields: BinFillDailyRow,
    formats: ['csv', 'geojson'],
    history: true,
  },
  {
    id: 'energy-half-hourly',
    title: 'Public building electricity use (half-hourly)',
    description:
      'Electricity used by each public building the council runs, in kWh per half-hour (the start of each half-hour in UTC), from its meter. Homes are never included. Ask for a window with from and to (dates); the last 7 days by default.',
    keywords: ['energy', 'electricity', 'public buildings', 'kWh', 'half-hourly'],
    frequency: 'CONT',
    licence: OGL_V3,
    source: 'meter',
    fields: EnergyHalfHourRow,
    formats: ['csv', 'geojson', 'jsonld'],
    history: true,
    ngsiLd: { model: 'ACMeasurement', writer: ngsiLdHalfHourWriter },
  },
  {
    id: 'energy-daily',
    title: 'Public building electricity use (daily)',
    description:
      'Electricity used by each public building the council runs, in kWh per day (London time), with how many of the day’s half-hours the meter reported. Homes are never included. Ask for a window with from and to (dates); the last year by default.',
    keywords: ['energy', 'electricity', 'public buildings', 'kWh'],
    frequency: 'DAILY',
    licence: OGL_V3,
    source: 'meter',
    fields: EnergyDailyRow,
    formats: ['csv', 'geojson', 'jsonld'],
    history: true,
    ngsiLd: { model: 'ACMeasurement', writer: ngsiLdDailyWriter },
  },
  {
    id: 'service-health',
    title: 'Sensor network health',
    description: 'How many of the council’s street bin and building energy sensors are online, per type and area.',
    keywords: ['sensors', 'internet of things', 'service health'],
    frequency: 'CONT',
    licence: OGL_V3,
    source: 'health',
    fields: ServiceHealthRow,
    formats: ['csv'],
    history: false,
  },
  {
    id: 'service-readings-daily',
    title: 'Sensor network readings (daily)',
    description:
      'How many readings the council’s street bin and building energy sensors sent each day (London time), per type and area. Ask for a window with from and to (dates); the last year by default.',
    keywords: ['sensors', 'internet of things', 'service health', 'readings'],
    frequency: 'DAILY',
    licence: OGL_V3,
    source: 'health',
    fields: ServiceReadingsDailyRow,
    formats: ['csv'],
    history: true,
  },
] as const satisfies readonly DatasetDefinition[]

export type DatasetId = (typeof DATASETS)[number]['id']

type Defined = (typeof DATASETS)[number]
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type WrittenRow<M> = M extends { writer: () => RowWriter<infer R> } ? R : never
/**
 * The ids of datasets served as jsonld with no NGSI-LD mapping, mapped but not served as jsonld,
 * or mapped to a writer of another dataset's rows (a WasteContainer writer on energy rows).
 */
type NgsiLdMismatch<D extends Defined = Defined> = D extends unknown
  ? 'jsonld' extends D['formats'][number]
    ? D extends { ngsiLd: infer M }
      ? Same<WrittenRow<M>, z.infer<D['fields']>> extends true
        ? never
        : D['id']
      : D['id']
    : D extends { ngsiLd: unknown }
      ? D['id']
      : never
  : never
/** Fails to compile while any dataset's NGSI-LD mapping and formats disagree. */
export const NGSI_LD_MATCHES_FORMATS: [NgsiLdMismatch] extends [never] ? true : false = true
export const DATASET_IDS = DATASETS.map((d) => d.id) as DatasetId[]

export const datasetById = (id: string): DatasetDefinition | undefined => DATASETS.find((d) => d.id === id)
