import { dayNumberOf, startOfLondonDay } from '../calendar/london-time.ts'
import type { EnergyDailyRow, EnergyHalfHourRow } from './datasets.ts'
import { dateTime, hasPosition, jsonItemsWriter, NGSI_LD_CORE_CONTEXT, type RowWriter } from './formats.ts'

/**
 * A public building's consumption over a period as the Smart Data Models `ACMeasurement`
 * (dataModel.Energy; standards.md §5): the model's required `dateObserved`, `phaseType` and
 * `location`, the period as `dateObservedFrom`/`dateObservedTo`, and the period's kWh as
 * `totalActiveEnergyImport`. That attribute is a register ("energy imported since metering
 * started"), so `dateEnergyMeteringStarted` is the period's start: the register then reads exactly
 * the period's consumption, the same figure as the CSV's `kWh`.
 */

export const ENERGY_CONTEXT = 'https://raw.githubusercontent.com/smart-data-models/dataModel.Energy/master/context.jsonld'

/**
 * The model requires a phase type and the meter type records none (devices/catalog/energy-meter.ts:
 * one register and one power, no per-phase values). Its plausible power (to 2 MW) and its
 * demand-high alert (100 kW) are far beyond a UK single-phase supply (about 23 kW on a 100 A
 * fuse), so the buildings these meters serve are on three-phase supplies. Only totals are
 * published, so no per-phase figure rests on this. The model's schema spells it `treePhase`; its
 * description and examples say `threePhase`, which is what readers match on.
 */
export const PHASE_TYPE = 'threePhase'

const HALF_HOUR_MS = 30 * 60_000

interface Metered {
  buildingId: string
  buildingName: string
  latitude: number | null
  longitude: number | null
  kWh: number
}

/** One building's period: `key` names it within the building (unique across both energy datasets). */
interface Period {
  key: string
  from: number
  to: number
}

function acMeasurement(r: Metered & { latitude: number; longitude: number }, p: Period) {
  const from = new Date(p.from).toISOString()
  const to = new Date(p.to).toISOString()
  return {
    id: `urn:ngsi-ld:ACMeasurement:${r.buildingId}:${p.key}`,
    type: 'ACMeasurement' as const,
    name: { type: 'Property' as const, value: r.buildingName },
    // The period's consumption is known once it has closed: it is observed at its end.
    dateObserved: { type: 'Property' as const, value: dateTime(to) },
    dateObservedFrom: { type: 'Property' as const, value: dateTime(from) },
    dateObservedTo: { type: 'Property' as const, value: dateTime(to) },
    dateEnergyMeteringStarted: { type: 'Property' as const, value: dateTime(from) },
    // KWH: the UN/CEFACT common code the model names for its unit.
    totalActiveEnergyImport: { type: 'Property' as const, value: r.kWh, unitCode: 'KWH', observedAt: to },
    phaseType: { type: 'Property' as const, value: PHASE_TYPE },
    // Each building's consumption comes from its one meter, whose device id is the building's id.
    refDevice: { type: 'Relationship' as const, object: [`urn:ngsi-ld:Device:${r.buildingId}`] },
    location: { type: 'GeoProperty' as const, value: { type: 'Point' as const, coordinates: [r.longitude, r.latitude] } },
    '@context': [ENERGY_CONTEXT, NGSI_LD_CORE_CONTEXT],
  }
}

/** A half-hour: its key is its length and its start, so no day of the same building can share it. */
function halfHourPeriod(r: EnergyHalfHourRow): Period {
  const from = Date.parse(r.start)
  return { key: `PT30M:${new Date(from).toISOString()}`, from, to: from + HALF_HOUR_MS }
}

/** A London day, midnight to midnight in UTC: 23 or 25 hours on the days the clocks change. */
function dayPeriod(r: EnergyDailyRow): Period {
  const day = dayNumberOf(r.date)
  return { key: `P1D:${r.date}`, from: startOfLondonDay(day), to: startOfLondonDay(day + 1) }
}

/**
 * NGSI-LD normalized entities, one per row, as a JSON array. `location` is required by the model,
 * so, as in GeoJSON, a building with no position is left out.
 */
const ngsiLdMeasurementWriter =
  <Row extends Metered>(periodOf: (r: Row) => Period) =>
  (): RowWriter<Row> =>
    jsonItemsWriter('[', ']', (r: Row) => (hasPosition(r) ? acMeasurement(r, periodOf(r)) : null))

export const ngsiLdHalfHourWriter = ngsiLdMeasurementWriter<EnergyHalfHourRow>(halfHourPeriod)
export const ngsiLdDailyWriter = ngsiLdMeasurementWriter<EnergyDailyRow>(dayPeriod)
