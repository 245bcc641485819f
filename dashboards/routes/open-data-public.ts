import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import {
  allowListed,
  BinFillRow,
  binsToGeoJson,
  binsToNgsiLd,
  DATASETS,
  type DatasetDefinition,
  type DatasetId,
  type Device,
  type DeviceState,
  dcatCatalogue,
  OPEN_MEDIA_TYPES,
  type OpenFormat,
  ServiceHealthRow,
  serviceHealthRows,
  toCsv,
} from '#devices'
import type { Registry } from '../../store/registry.ts'
import { sendError } from '../errors.ts'
import { OPEN_DATA_LIMIT } from '../rate-limits.ts'

export interface OpenDataPublicDeps {
  registry: Registry
  state(device: Device): DeviceState
  /** HTTP_PUBLIC_URL; null: the address each request came to. */
  publicUrl: string | null
  /** Named as the catalogue's dct:publisher; 'the council' when not configured. */
  publisher?: string | undefined
}

/**
 * Street bins' latest state, the one query every format of bin-fill-latest is built from, so
 * CSV, GeoJSON and NGSI-LD cannot disagree (D14). Fill comes from live state, as the readings
 * API shows it; the last emptying from the collection store, every bin's in one query.
 */
async function binFillRows(deps: OpenDataPublicDeps): Promise<BinFillRow[]> {
  const rows: unknown[] = []
  const [bins, emptied] = await Promise.all([deps.registry.devices.list({ type: 'bin' }), deps.registry.rounds.lastCollections()])
  for (const bin of bins) {
    const latest = deps.state(bin).latest
    const fill = latest?.readings.fillingLevel
    const last = emptied.get(bin.id)
    // The device record carries more (its UPRN, presence…): only the allow-list below lets fields through.
    rows.push({
      ...bin,
      fillingLevel: typeof fill === 'number' ? fill : null,
      observedAt: typeof fill === 'number' && latest ? latest.ts : null,
      dateLastEmptying: last === undefined ? null : new Date(last).toISOString(),
    })
  }
  return allowListed(BinFillRow, rows)
}

/** Each served dataset's one query and its formats; a dataset without an entry has no public route. */
const SERVED: Partial<Record<DatasetId, (deps: OpenDataPublicDeps) => Promise<Partial<Record<OpenFormat, () => string>>>>> = {
  'bin-fill-latest': async (deps) => {
    const rows = await binFillRows(deps)
    return {
      csv: () => toCsv(BinFillRow, rows),
      geojson: () => JSON.stringify(binsToGeoJson(rows)),
      jsonld: () => JSON.stringify(binsToNgsiLd(rows)),
    }
  },
  'service-health': async (deps) => {
    const devices = [...(await deps.registry.devices.list({ type: 'bin' })), ...(await deps.registry.devices.list({ type: 'meter' }))]
    const rows = allowListed(ServiceHealthRow, serviceHealthRows(devices, await deps.registry.areas.list()))
    return { csv: () => toCsv(ServiceHealthRow, rows) }
  },
}
const contentType: Record<OpenFormat, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  geojson: 'application/geo+json',
  jsonld: 'application/ld+json',
}

/** A minute's caching for a CDN, and a strong ETag of the body so a client that has it gets a 304. */
function sendCached(req: FastifyRequest, reply: FastifyReply, body: string, type: string) {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`
  reply.header('cache-control', 'public, max-age=60').header('etag', etag)
  const ifNoneMatch = req.headers['if-none-match']
  if (ifNoneMatch?.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return reply.code(304).send()
  return reply.type(type).send(body)
}

/** The public side: no sign-in, only published datasets, only their allow-listed fields. */
export const openDataPublicRoutes =
  (deps: OpenDataPublicDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const published = async (): Promise<DatasetDefinition[]> => {
      const on = new Set((await deps.registry.openData.list()).filter((s) => s.published).map((s) => s.id))
      return DATASETS.filter((d) => on.has(d.id))
    }
    const baseUrl = (req: FastifyRequest) => (deps.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '')

    app.get(
      '/open',
      {
        config: { access: 'public', rateLimit: OPEN_DATA_LIMIT },
        schema: {
          tags: ['open data'],
          description: 'The published datasets as a DCAT catalogue (JSON-LD), for a data portal such as CKAN to harvest.',
          security: [],
        },
      },
      async (req, reply) => {
        const catalogue = dcatCatalogue(await published(), { baseUrl: baseUrl(req), publisher: deps.publisher ?? 'the council' })
        return sendCached(req, reply, JSON.stringify(catalogue), OPEN_MEDIA_TYPES.jsonld)
      },
    )

    for (const dataset of DATASETS) {
      const serve = SERVED[dataset.id]
      if (!serve) continue
      for (const format of dataset.formats) {
        app.get(
          `/open/${dataset.id}.${format}`,
          {
            config: { access: 'public', rateLimit: OPEN_DATA_LIMIT },
            schema: { tags: ['open data'], description: `${dataset.title}, as ${format}. 404 while not published.`, security: [] },
          },
          async (req, reply) => {
            if (!(await published()).some((d) => d.id === dataset.id))
              return sendError(reply, 404, 'DATASET_NOT_PUBLISHED', `the dataset ${dataset.id} is not published`)
            const write = (await serve(deps))[format]
            if (!write) return sendError(reply, 404, 'NOT_FOUND', `${dataset.id} is not served as ${format} yet`)
            return sendCached(req, reply, write(), contentType[format])
          },
        )
      }
    }
  }
