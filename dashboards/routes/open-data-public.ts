import { createHash } from 'node:crypto'
import zlib from 'node:zlib'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import {
  DATASETS,
  type DatasetDefinition,
  type DatasetId,
  type Device,
  type DeviceState,
  dcatCatalogue,
  MAX_WINDOW_DAYS,
  OPEN_MEDIA_TYPES,
  OpenDataQuery,
} from '#devices'
import type { InfluxQuery } from '../../influx/query.ts'
import type { Registry } from '../../store/registry.ts'
import { ErrorBody, sendError } from '../errors.ts'
import type { ChangeClock } from '../open-data/change-clock.ts'
import { OPEN_DATA_PAGE_CSS, openDataPage } from '../open-data/page.ts'
import { createVersionTimes, matches, serveDataset, windowOf } from '../open-data/serve.ts'
import { SOURCES } from '../open-data/sources.ts'
import { OPEN_DATA_LIMIT } from '../rate-limits.ts'

export interface OpenDataPublicDeps {
  registry: Registry
  state(device: Device): DeviceState
  influx: InfluxQuery
  /** HTTP_PUBLIC_URL; null: the address each request came to. */
  publicUrl: string | null
  /** Named as the catalogue's dct:publisher; 'the council' when not configured. */
  publisher?: string | undefined
  /** OPEN_DATA_LICENCE_URL; null: each dataset's own (OGL v3). */
  licence?: string | null
  /** When each day of readings and collections last changed: history datasets' versions. */
  changes: ChangeClock
  now?: () => number
}

/** Rows of a dataset shown on the human page. */
const SAMPLE_ROWS = 3
/** The catalogue's coverage and samples are re-read at most this often (the catalogue is cached a minute anyway). */
const SUMMARY_TTL_MS = 60_000

/**
 * A browser asks for HTML; a harvester for JSON-LD, JSON or anything. HTML only when text/html is
 * listed and no JSON type comes before it.
 */
function wantsHtml(accept: string | undefined): boolean {
  if (!accept) return false
  const types = accept.split(',').map((t) => t.split(';')[0]!.trim().toLowerCase())
  const html = types.indexOf('text/html')
  if (html === -1) return false
  const json = types.findIndex((t) => t === 'application/ld+json' || t === 'application/json')
  return json === -1 || html < json
}

/** A minute's caching for a CDN, and a strong ETag of the body so a client that has it gets a 304. */
function sendCached(req: FastifyRequest, reply: FastifyReply, body: string, type: string) {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`
  reply.header('cache-control', 'public, max-age=60').header('etag', etag)
  if (matches(req.headers['if-none-match'], etag)) return reply.code(304).send()
  return reply.type(type).send(body)
}

/** The public side: no sign-in, only published datasets, only their allow-listed fields. */
export const openDataPublicRoutes =
  (deps: OpenDataPublicDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const now = deps.now ?? Date.now
    const times = createVersionTimes(now)
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
        const datasets = await published()
        const base = baseUrl(req)
        const publisher = deps.publisher ?? 'the council'
        const coverage = await coverages(datasets)
        reply.header('vary', 'Accept')
        if (wantsHtml(req.headers.accept)) {
          const page = openDataPage(
            await Promise.all(
              datasets.map(async (dataset) => ({
                dataset,
                links: dataset.formats.map((format) => ({ format, url: `${base}/open/${dataset.id}.${format}` })),
                sample: await sampleOf(dataset),
                coverage: coverage[dataset.id] ?? null,
              })),
            ),
            { publisher, licence: deps.licence ?? null, catalogueUrl: `${base}/open` },
          )
          return sendCached(req, reply, page, 'text/html; charset=utf-8')
        }
        const catalogue = dcatCatalogue(datasets, { baseUrl: base, publisher, licence: deps.licence ?? null, coverage })
        return sendCached(req, reply, JSON.stringify(catalogue), OPEN_MEDIA_TYPES.jsonld)
      },
    )

    app.get('/open/page.css', { config: { access: 'public' }, schema: { hide: true } }, async (req, reply) =>
      sendCached(req, reply, OPEN_DATA_PAGE_CSS, 'text/css; charset=utf-8'),
    )

    /** Each history dataset's first and last data, kept a minute: the catalogue asks on every harvest. */
    let kept: { at: number; value: Record<string, { start: string; end: string }> } | null = null
    async function coverages(datasets: readonly DatasetDefinition[]) {
      if (kept && now() - kept.at < SUMMARY_TTL_MS) return kept.value
      const value: Record<string, { start: string; end: string }> = {}
      for (const d of datasets) {
        const extent = await SOURCES[d.id as DatasetId].coverage?.(deps)
        if (extent) value[d.id] = { start: new Date(extent.start).toISOString(), end: new Date(extent.end).toISOString() }
      }
      kept = { at: now(), value }
      return value
    }

    /** The first rows of the dataset as its download would give them (history: the last two days). */
    async function sampleOf(dataset: DatasetDefinition): Promise<Record<string, unknown>[]> {
      const source = SOURCES[dataset.id as DatasetId]
      const w = source.defaultDays === null ? null : windowOf({}, 2, now())
      const prepared = await source.prepare(deps, typeof w === 'string' ? null : w)
      const out: Record<string, unknown>[] = []
      for await (const batch of prepared.rows(null)) {
        out.push(...batch.slice(0, SAMPLE_ROWS - out.length))
        if (out.length === SAMPLE_ROWS) break
      }
      return out
    }

    for (const dataset of DATASETS) {
      const source = SOURCES[dataset.id]
      const window = dataset.history
        ? ` Days are London days; \`from\` and \`to\` choose them (the last ${source.defaultDays} by default, at most ${MAX_WINDOW_DAYS}).`
        : ''
      for (const format of dataset.formats) {
        app.get(
          `/open/${dataset.id}.${format}`,
          {
            config: { access: 'public', rateLimit: OPEN_DATA_LIMIT },
            // gzip, not brotli, for a download that may stream for a minute: a fraction of brotli's
            // window in memory per download, and every client and CDN reads it.
            // Flushed per chunk, so the first rows leave at once rather than when a block is full.
            compress: { encodings: ['gzip', 'deflate'], zlibOptions: { flush: zlib.constants.Z_SYNC_FLUSH } },
            schema: {
              tags: ['open data'],
              description:
                `${dataset.title}, as ${format}. 404 while not published.${window} ` +
                'Without `limit` the whole dataset streams; with it, a page, and a `Link: <…>; rel="next"` header while there is more. ' +
                'ETag and Last-Modified answer conditional requests with 304.',
              security: [],
              querystring: OpenDataQuery,
              response: { 400: ErrorBody, 404: ErrorBody, 429: ErrorBody },
            },
          },
          async (req, reply) => {
            if (!(await published()).some((d) => d.id === dataset.id))
              return sendError(reply, 404, 'DATASET_NOT_PUBLISHED', `the dataset ${dataset.id} is not published`)
            return serveDataset(req, reply, { dataset, source, format, deps, now: now(), times })
          },
        )
      }
    }
  }
