import { type Area, type DeviceInput, type DeviceType, isoWeekdayOf, londonDayNumber } from '#devices'
import type { ModelOptions } from './models/index.ts'

const H = 3_600_000
const D = 24 * H

/** Readings no demo device sends: no outliers or lid-open samples, so the story reads cleanly. */
const QUIET = { outlierRate: 0, lidOpenRate: 0 }

export const DEMO_SITES = {
  town: 'demo-town-centre',
  estate: 'demo-riverside-estate',
  civic: 'demo-civic-buildings',
} as const

/** One area per demo site, so a person granted it sees that site's demo devices (and the round). */
export const DEMO_AREAS: Area[] = [
  { id: DEMO_SITES.town, name: 'Kingston town centre (demo)', kind: 'ward', sites: [DEMO_SITES.town] },
  { id: DEMO_SITES.estate, name: 'Riverside estate (demo)', kind: 'estate', sites: [DEMO_SITES.estate] },
  { id: DEMO_SITES.civic, name: 'Council buildings (demo)', kind: 'other', sites: [DEMO_SITES.civic] },
]

export const DEMO_ROUND = { id: 'demo-town-centre-litter', name: 'Town centre litter bins (demo)', site: DEMO_SITES.town }

export interface DemoDevice<T extends DeviceType = DeviceType> {
  spec: DeviceInput & { type: T }
  /** How far back its simulated history starts, before the first start. */
  historyMs: number
  options: ModelOptions[T]
  /** The alert its story is about, open by the end of its history; none for a neighbour that shows what normal looks like. */
  about: string | null
}

/**
 * The day the demo round is collected: two days after the first start (London), so the busy bin
 * overflows before it, and none of the history falls on it.
 */
export function demoCollectionDay(anchor: number): number {
  return isoWeekdayOf(londonDayNumber(anchor) + 2)
}

/** The latest 17:00 UTC at least three hours before `t`: long enough ago for a few half-hourly readings. */
const lastEvening = (t: number) => Math.floor((t - 3 * H - 17 * H) / D) * D + 17 * H

// A leak of this many bar a day, crossing the 0.8 bar low-pressure line eight hours before the first
// start: eight hours always hold cold readings (heating runs at most five hours at a time), which is
// when pressure is judged.
const LEAK_BAR_PER_DAY = 0.4
const LEAK_COLD_BAR = 1.05
const LOW_LINE_BAR = 0.8

/**
 * The first-look set around Kingston upon Thames (issue 11, item 6): a busy bin that will overflow
 * before its collection, a leaking boiler, a damp home, and a leisure centre with its lights left on,
 * each beside a neighbour that is fine. Times are from `anchor`, the first start: each story ends
 * there with its alert open, and goes on in real time after it. Names read as a crew or an officer
 * would say them; homes and buildings are made up.
 * Histories are short: they must lie inside the service's accepted window (TIME_LATE_S, 7 days by
 * default), and the broker's per-device rate (20 a second) sets how fast they can be sent.
 * `busyStartFill` is the busy bin's starting fill, worked out by first-look.ts so that it is 88 % full at the anchor.
 */
export function demoDevices(anchor: number, busyStartFill = 0.3): DemoDevice[] {
  const collection = demoCollectionDay(anchor) % 7 // the models count weekdays from Sunday = 0
  const leakFrom = anchor - 8 * H - ((LEAK_COLD_BAR - LOW_LINE_BAR) / LEAK_BAR_PER_DAY) * D
  const home = (n: number) => String(100_029_990_000 + n)
  const bin = (d: DemoDevice<'bin'>) => d
  const boiler = (d: DemoDevice<'boiler'>) => d
  const room = (d: DemoDevice<'room'>) => d
  const meter = (d: DemoDevice<'meter'>) => d
  return [
    bin({
      spec: {
        id: 'demo-bin-market-place',
        type: 'bin',
        name: 'Market Place, by the Market House',
        site: DEMO_SITES.town,
        latitude: 51.41002,
        longitude: -0.30657,
      },
      historyMs: 2 * D,
      options: { ...QUIET, ratePerDay: 0.3, startFill: busyStartFill, collectionDays: [collection] },
      about: 'bin-full-before-collection',
    }),
    bin({
      spec: {
        id: 'demo-bin-clarence-street',
        type: 'bin',
        name: 'Clarence Street, by the bus stops',
        site: DEMO_SITES.town,
        latitude: 51.41145,
        longitude: -0.30318,
      },
      historyMs: 2 * D,
      options: { ...QUIET, ratePerDay: 0.08, startFill: 0.25, collectionDays: [collection] },
      about: null,
    }),
    boiler({
      spec: {
        id: 'demo-boiler-hawthorn-house-14',
        type: 'boiler',
        name: 'Boiler, 14 Hawthorn House',
        site: DEMO_SITES.estate,
        latitude: 51.40395,
        longitude: -0.29231,
        uprn: home(14),
      },
      historyMs: 26 * H,
      options: { coldPressure: LEAK_COLD_BAR, leakFrom, leakBarPerDay: LEAK_BAR_PER_DAY },
      about: 'boiler-pressure-low',
    }),
    room({
      spec: {
        id: 'demo-room-rowan-house-3-bedroom',
        type: 'room',
        name: 'Bedroom, 3 Rowan House',
        site: DEMO_SITES.estate,
        latitude: 51.40442,
        longitude: -0.29118,
        uprn: home(3),
      },
      historyMs: 3 * D,
      options: { room: 'bedroom', risk: true },
      about: 'damp-mould-risk',
    }),
    boiler({
      spec: {
        id: 'demo-boiler-rowan-house-3',
        type: 'boiler',
        name: 'Boiler, 3 Rowan House',
        site: DEMO_SITES.estate,
        latitude: 51.40442,
        longitude: -0.29118,
        uprn: home(3),
      },
      // Long enough to hold a whole night, when the damp home's humidity climbs.
      historyMs: 30 * H,
      options: { coldPressure: 1.3, damp: true },
      about: 'damp-mould-risk',
    }),
    meter({
      spec: {
        id: 'demo-meter-riverside-leisure-centre',
        type: 'meter',
        name: 'Riverside Leisure Centre',
        site: DEMO_SITES.civic,
        latitude: 51.40633,
        longitude: -0.30215,
      },
      historyMs: 6 * D,
      // Floodlights, sports-hall lights and air handling left on since yesterday evening: about 90 kW
      // day and night, over the 100 kW the building is allowed, until someone switches them off a week later.
      options: { peakW: 90_000, baseShare: 0.2, surge: { at: lastEvening(anchor), ms: 7 * D, extraW: 90_000 } },
      about: 'meter-demand-high',
    }),
    meter({
      spec: {
        id: 'demo-meter-guildhall-annexe',
        type: 'meter',
        name: 'Guildhall Annexe',
        site: DEMO_SITES.civic,
        latitude: 51.40738,
        longitude: -0.30531,
      },
      historyMs: 6 * D,
      options: { peakW: 45_000, baseShare: 0.15 },
      about: null,
    }),
  ]
}

/** The longest history: a first look whose data ended longer ago than this starts its stories again. */
export const DEMO_HISTORY_MAX_MS = 6 * D
