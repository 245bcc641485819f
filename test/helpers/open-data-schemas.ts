import { readFileSync } from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'

/**
 * The shipped schemas the open-data formats are held to (issue 13, acceptance 3), loaded as
 * test/devices/open-data-formats.test.ts loads them: every schema is a fixture in
 * test/fixtures/open-data (its README says where each came from), nothing is fetched. Integration
 * tests pass the bodies the service actually serves through these.
 */

export const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/open-data/${name}`, import.meta.url), 'utf8'))

/** RFC 7946 FeatureCollection. */
export function geoJsonValidator(): ValidateFunction {
  return new Ajv({ allErrors: true, strictTuples: false }).compile(fixture('geojson-featurecollection.schema.json') as object)
}

/**
 * A Smart Data Models schema. They carry their own keywords ($schemaVersion, modelTags) and name
 * meta-schemas Ajv does not bundle, so they are compiled as they are, without strict mode.
 */
export function smartDataModelAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false })
  addFormats.default(ajv)
  ajv.addSchema(fixture('common-schema.excerpt.json') as object)
  return ajv
}
const smartDataModel = (file: string): ValidateFunction => smartDataModelAjv().compile(fixture(file) as object)

/** The Smart Data Models WasteContainer schema (key-values form). */
export const wasteContainerValidator = () => smartDataModel('waste-container.schema.json')
/** The shipped (corrected) ACMeasurement schema (key-values form; README beside it says why corrected). */
export const acMeasurementValidator = () => smartDataModel('ac-measurement.schema.json')

/** The validator's errors for `data`, none when it is valid. */
export const errorsOf = (validate: ValidateFunction, data: unknown) => (validate(data) ? [] : (validate.errors ?? []))

type NgsiAttribute = { type: 'Property' | 'GeoProperty' | 'Relationship'; value?: unknown; object?: unknown }

/**
 * NGSI-LD normalised → key-values, the form the Smart Data Models JSON Schemas describe: each
 * Property by its value (a typed DateTime `{'@type','@value'}` by its string), a GeoProperty by its
 * GeoJSON, a Relationship by its object; sub-attributes (observedAt) and `@context` are dropped.
 */
export function toKeyValues(entity: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(entity)) {
    if (key === '@context') continue
    if (key === 'id' || key === 'type') {
      out[key] = v
      continue
    }
    const attr = v as NgsiAttribute
    if (attr.type === 'Relationship') out[key] = attr.object
    else if (attr.type === 'Property' || attr.type === 'GeoProperty') {
      const value = attr.value as { '@value'?: unknown } | null
      out[key] = value !== null && typeof value === 'object' && '@value' in value ? value['@value'] : value
    } else throw new Error(`${key} is not an NGSI-LD attribute: ${JSON.stringify(v)}`)
  }
  return out
}
