import { type DatasetDefinition, OPEN_MEDIA_TYPES } from './datasets.ts'

const FREQUENCY = 'http://publications.europa.eu/resource/authority/frequency/'
const FILE_TYPE = 'http://publications.europa.eu/resource/authority/file-type/'
const FILE_TYPES = { csv: 'CSV', geojson: 'GEOJSON', jsonld: 'JSON_LD' } as const

export const DCAT_CONTEXT = {
  dcat: 'http://www.w3.org/ns/dcat#',
  dct: 'http://purl.org/dc/terms/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
}

export interface CatalogueOptions {
  /** Where the public reaches the service, without a trailing slash. */
  baseUrl: string
  publisher: string
  /** The council's licence for all its datasets; null: each dataset's own (OGL v3). */
  licence?: string | null
  /** Per dataset id, the first and last instant its rows cover (ISO); a dataset without one is the state now. */
  coverage?: Readonly<Record<string, { start: string; end: string }>>
}

/** The published datasets as a DCAT v3 catalogue in JSON-LD, for CKAN's DCAT harvester (standards §4). */
export function dcatCatalogue(datasets: readonly DatasetDefinition[], o: CatalogueOptions) {
  const publisher = { '@id': `${o.baseUrl}/open#publisher`, '@type': 'foaf:Agent', 'foaf:name': o.publisher }
  return {
    '@context': DCAT_CONTEXT,
    '@id': `${o.baseUrl}/open`,
    '@type': 'dcat:Catalog',
    'dct:title': `Open data from ${o.publisher}`,
    'dct:description': 'Datasets the council publishes from its sensors. Housing data is never published.',
    'dct:publisher': publisher,
    'dcat:dataset': datasets.map((d) => {
      const licence = { '@id': o.licence ?? d.licence }
      const period = o.coverage?.[d.id]
      return {
        '@id': `${o.baseUrl}/open#${d.id}`,
        '@type': 'dcat:Dataset',
        'dct:identifier': d.id,
        'dct:title': d.title,
        'dct:description': d.description,
        'dcat:keyword': [...d.keywords],
        'dct:publisher': publisher,
        'dct:license': licence,
        'dct:accrualPeriodicity': { '@id': `${FREQUENCY}${d.frequency}` },
        ...(period
          ? {
              'dct:temporal': {
                '@type': 'dct:PeriodOfTime',
                'dcat:startDate': { '@value': period.start, '@type': 'xsd:dateTime' },
                'dcat:endDate': { '@value': period.end, '@type': 'xsd:dateTime' },
              },
            }
          : {}),
        'dcat:distribution': d.formats.map((f) => {
          const url = { '@id': `${o.baseUrl}/open/${d.id}.${f}` }
          return {
            '@type': 'dcat:Distribution',
            'dct:title': `${d.title} (${FILE_TYPES[f]})`,
            'dcat:accessURL': url,
            'dcat:downloadURL': url,
            'dcat:mediaType': { '@id': `https://www.iana.org/assignments/media-types/${OPEN_MEDIA_TYPES[f]}` },
            'dct:format': { '@id': `${FILE_TYPE}${FILE_TYPES[f]}` },
            'dct:license': licence,
          }
        }),
      }
    }),
  }
}
