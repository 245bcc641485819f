import { describe, expect, it } from 'vitest'
import {
  allowListed,
  BinFillRow,
  binsToGeoJson,
  binsToNgsiLd,
  DATASETS,
  type DatasetDefinition,
  type DatasetSource,
  dcatCatalogue,
  OGL_V3,
  serviceHealthRows,
  toCsv,
} from '#devices'

const row = (over: Partial<BinFillRow> = {}): BinFillRow => ({
  id: 'b1',
  name: 'Bin 1',
  site: 'town',
  latitude: 51.4,
  longitude: -0.3,
  fillingLevel: 0.5,
  observedAt: '2026-11-30T10:00:00.000Z',
  dateLastEmptying: null,
  ...over,
})

describe('open data definitions and serialisers (issue 13, D14)', () => {
  it('defines the six datasets, each under OGL v3 by default, and none over a housing source', () => {
    expect(DATASETS.map((d) => d.id)).toEqual([
      'bin-fill-latest',
      'bin-fill-daily',
      'energy-half-hourly',
      'energy-daily',
      'service-health',
      'service-readings-daily',
    ])
    expect(DATASETS.every((d) => d.licence === OGL_V3)).toBe(true)
    const sources: readonly DatasetSource[] = DATASETS.map((d) => d.source)
    expect(sources).toEqual(['bin', 'bin', 'meter', 'meter', 'health', 'health'])
    // @ts-expect-error a boiler is not a dataset source: a housing dataset does not compile.
    const boiler: DatasetSource = 'boiler'
    // @ts-expect-error nor is a room.
    const room: DatasetSource = 'room'
    expect([boiler, room]).toHaveLength(2)
  })

  it('lets through only the declared fields, and leaves out a row that does not fit them', () => {
    const rows = allowListed(BinFillRow, [
      { ...row(), uprn: '100023336956', presence: 'online', secretHmac: 'x' },
      row({ id: 'b2', fillingLevel: 1.4 }),
    ])
    expect(rows).toEqual([row()])
    expect(Object.keys(rows[0]!)).toEqual(Object.keys(BinFillRow.shape))
  })

  it('writes RFC 4180 CSV: a header row, CRLF after every record, quotes doubled, empty for unknown', () => {
    const csv = toCsv(BinFillRow, [row({ name: 'Bin "Market", Square\r\nnorth', latitude: null, fillingLevel: null })])
    expect(csv).toBe(
      'id,name,site,latitude,longitude,fillingLevel,observedAt,dateLastEmptying\r\n' +
        'b1,"Bin ""Market"", Square\r\nnorth",town,,-0.3,,2026-11-30T10:00:00.000Z,\r\n',
    )
  })

  it('puts longitude first in GeoJSON and NGSI-LD, and leaves out bins with no position', () => {
    const rows = [row(), row({ id: 'b2', latitude: null, longitude: null })]
    const geo = binsToGeoJson(rows)
    expect(geo.features).toHaveLength(1)
    expect(geo.features[0]!.geometry).toEqual({ type: 'Point', coordinates: [-0.3, 51.4] })
    const [entity, ...rest] = binsToNgsiLd(rows)
    expect(rest).toEqual([])
    expect(entity!.location.value.coordinates).toEqual([-0.3, 51.4])
    expect(entity!.fillingLevel).toEqual({ type: 'Property', value: 0.5, observedAt: '2026-11-30T10:00:00.000Z' })
    expect('dateLastEmptying' in entity!).toBe(false)
  })

  it('offers a distribution per served format', () => {
    const cat = dcatCatalogue(DATASETS as readonly DatasetDefinition[], {
      baseUrl: 'https://data.example.gov.uk',
      publisher: 'Example Council',
    })
    const [bins, , , energy] = cat['dcat:dataset']
    expect(bins!['dcat:distribution'].map((d) => d['dcat:downloadURL']['@id'])).toEqual([
      'https://data.example.gov.uk/open/bin-fill-latest.csv',
      'https://data.example.gov.uk/open/bin-fill-latest.geojson',
      'https://data.example.gov.uk/open/bin-fill-latest.jsonld',
    ])
    expect(energy!['dcat:distribution'].map((d) => d['dcat:downloadURL']['@id'])).toEqual([
      'https://data.example.gov.uk/open/energy-daily.csv',
      'https://data.example.gov.uk/open/energy-daily.geojson',
      'https://data.example.gov.uk/open/energy-daily.jsonld',
    ])
    // The building energy NGSI-LD (ACMeasurement entities) is JSON-LD, as the bins' is.
    expect(energy!['dcat:distribution'][2]!['dcat:mediaType']).toEqual({
      '@id': 'https://www.iana.org/assignments/media-types/application/ld+json',
    })
    expect(energy!['dct:accrualPeriodicity']).toEqual({ '@id': 'http://publications.europa.eu/resource/authority/frequency/DAILY' })
    expect(cat['dct:publisher']['foaf:name']).toBe('Example Council')
  })

  it('counts bins and meters online per area, never a boiler or room, and never under an estate', () => {
    const areas = [
      { id: 'north', name: 'North ward', kind: 'ward' as const, sites: ['town', 'park'] },
      { id: 'hawthorn', name: 'Hawthorn estate', kind: 'estate' as const, sites: ['estate'] },
    ]
    const rows = serviceHealthRows(
      [
        { type: 'bin', site: 'town', presence: 'online' },
        { type: 'bin', site: 'park', presence: 'offline' },
        { type: 'bin', site: 'estate', presence: 'online' },
        { type: 'meter', site: 'town', presence: 'unknown' },
        { type: 'boiler', site: 'estate', presence: 'online' },
        { type: 'room', site: 'town', presence: 'online' },
      ],
      areas,
    )
    expect(rows).toEqual([
      { type: 'bin', area: 'north', online: 1, total: 2 },
      { type: 'bin', area: 'unassigned', online: 1, total: 1 },
      { type: 'meter', area: 'north', online: 0, total: 1 },
    ])
  })
})
