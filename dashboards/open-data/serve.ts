import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  csvWriter,
  type DatasetDefinition,
  dayNumberOf,
  geoJsonWriter,
  londonDayNumber,
  MAX_PAGE_SIZE,
  MAX_WINDOW_DAYS,
  type OpenDataQuery,
  type OpenFormat,
  type RowWriter,
  startOfLondonDay,
} from '#devices'
import { sendError } from '../errors.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'
import type { AnySource, SourceDeps, Window } from './sources.ts'

export const CONTENT_TYPES: Record<OpenFormat, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  geojson: 'application/geo+json',
  jsonld: 'application/ld+json',
}

type Row = Record<string, unknown>

/**
 * A new writer of the format for one response; every dataset's GeoJSON features are named by its
 * row key, and its NGSI-LD entities are its own Smart Data Model's (the dataset's `ngsiLd`).
 */
export function writerFor(dataset: DatasetDefinition, source: AnySource, format: OpenFormat): RowWriter<Row> {
  if (format === 'csv') return csvWriter(dataset.fields)
  if (format === 'geojson')
    return geoJsonWriter<Row & { latitude: number | null; longitude: number | null }>((r) => source.keyOf(r).join('/'))
  // Routes exist only for declared formats, and datasets.ts will not compile with jsonld declared and no mapping.
  if (!dataset.ngsiLd) throw new Error(`${dataset.id} has no NGSI-LD mapping`)
  return dataset.ngsiLd.writer()
}

/** The window a history dataset was asked for, at London midnights; a string is the error to send. */
export function windowOf(q: OpenDataQuery, defaultDays: number, now: number): Window | string {
  const tomorrow = londonDayNumber(now) + 1
  let to: number
  let from: number
  try {
    to = q.to ? dayNumberOf(q.to) : tomorrow
    from = q.from ? dayNumberOf(q.from) : to - defaultDays
  } catch (e) {
    return (e as Error).message
  }
  if (from >= to) return '`from` must be a day before `to` (`to` is exclusive)'
  if (to - from > MAX_WINDOW_DAYS) return `a window of at most ${MAX_WINDOW_DAYS} days; ask for longer periods a window at a time`
  return { from: startOfLondonDay(from), to: startOfLondonDay(to) }
}

/** Requests remembered for Last-Modified; past this the memory starts again (a few more full answers, nothing stale). */
const REMEMBERED = 10_000

/**
 * Last-Modified for each request (dataset, format, window, page): the first time this process
 * answered it with its current version, in whole seconds, and always later than the version
 * before it. So If-Modified-Since gets a 304 only for the rows the client already has, even when
 * a late reading changed an old day; after a restart everything reads as modified once.
 */
export function createVersionTimes(now: () => number = Date.now) {
  const seen = new Map<string, { version: string; at: number }>()
  return (request: string, version: string): number => {
    const prior = seen.get(request)
    if (prior?.version === version) return prior.at
    let at = Math.floor(now() / 1000) * 1000
    if (prior && at <= prior.at) at = prior.at + 1000
    if (seen.size >= REMEMBERED) seen.clear()
    seen.set(request, { version, at })
    return at
  }
}
export type VersionTimes = ReturnType<typeof createVersionTimes>

/** Weak comparison (RFC 9110 §13.1.2): a compressed and a plain body of the same rows are the same resource. */
export const matches = (header: string | undefined, etag: string) =>
  header?.split(',').some((t) => {
    const tag = t.trim()
    return tag === '*' || tag.replace(/^W\//, '') === etag.replace(/^W\//, '')
  }) ?? false

/** The next page's address: the same request with the cursor moved on. */
function nextLink(req: FastifyRequest, cursor: string): string {
  const url = new URL(req.url, 'http://x')
  url.searchParams.set('cursor', cursor)
  return `<${url.pathname}${url.search}>; rel="next"`
}

/**
 * One public dataset request: refuse what it cannot answer with a clear error, answer a
 * conditional request from the version alone, then write a page (with `limit`) or stream it all.
 */
export async function serveDataset(
  req: FastifyRequest<{ Querystring: OpenDataQuery }>,
  reply: FastifyReply,
  o: { dataset: DatasetDefinition; source: AnySource; format: OpenFormat; deps: SourceDeps; now: number; times: VersionTimes },
) {
  const { dataset, source, format, deps } = o
  const q = req.query
  if (q.limit !== undefined && q.limit > MAX_PAGE_SIZE)
    return sendError(
      reply,
      400,
      'PAGE_SIZE_TOO_LARGE',
      `limit may be at most ${MAX_PAGE_SIZE} rows; follow each page's Link rel="next" for the rest, or leave limit out to download the whole dataset`,
    )
  const after = q.cursor === undefined ? null : decodeCursor(q.cursor, source.keyParts)
  if (q.cursor !== undefined && after === null)
    return sendError(reply, 400, 'BAD_CURSOR', 'the cursor is not one this dataset gave out; start again without it')
  let window: Window | null = null
  if (source.defaultDays === null) {
    if (q.from !== undefined || q.to !== undefined)
      return sendError(reply, 400, 'BAD_REQUEST', `${dataset.id} is the latest state: it takes no from or to`)
  } else {
    const w = windowOf(q, source.defaultDays, o.now)
    if (typeof w === 'string') return sendError(reply, 400, 'BAD_WINDOW', w)
    window = w
  }

  const prepared = await source.prepare(deps, window)
  const request = JSON.stringify([dataset.id, format, window, q.limit ?? null, q.cursor ?? null])
  const etag = `W/"${createHash('sha256').update(request).update(prepared.version).digest('base64url').slice(0, 32)}"`
  const modified = o.times(request, prepared.version)
  reply.header('cache-control', 'public, max-age=60').header('etag', etag).header('last-modified', new Date(modified).toUTCString())
  const ims = req.headers['if-modified-since']
  // If-None-Match wins when both are sent (RFC 9110 §13.2.2).
  if (req.headers['if-none-match'] !== undefined) {
    if (matches(req.headers['if-none-match'], etag)) return reply.code(304).send()
  } else if (ims && Date.parse(ims) >= modified) return reply.code(304).send()

  reply.type(CONTENT_TYPES[format])
  const writer = writerFor(dataset, source, format)
  // Byte mode with a small high-water mark: the generator is asked for the next batch only once
  // this one is on its way (in object mode each multi-megabyte chunk would count as one of sixteen).
  if (q.limit === undefined)
    return reply.send(Readable.from(whole(writer, prepared.rows(after)), { objectMode: false, highWaterMark: 64 * 1024 }))

  // A page: the rows after the cursor, and a link to the next page if there is more.
  const limit = q.limit
  const page: Row[] = []
  let more = false
  for await (const batch of prepared.rows(after)) {
    for (const r of batch) {
      if (page.length === limit) {
        more = true
        break
      }
      page.push(r)
    }
    if (more) break
  }
  if (more) reply.header('link', nextLink(req, encodeCursor(source.keyOf(page.at(-1)!))))
  return reply.send(writer.head + page.map((r) => writer.row(r)).join('') + writer.tail)
}

/** The whole dataset as text chunks, a batch at a time: the reply pulls the next batch only when the last is sent. */
async function* whole(writer: RowWriter<Row>, batches: AsyncIterable<readonly Row[]>): AsyncGenerator<string> {
  if (writer.head) yield writer.head
  const parts: string[] = []
  for await (const batch of batches) {
    // Joined once into a flat string: appending would build a tree of every row's string first.
    for (const r of batch) parts.push(writer.row(r))
    const chunk = parts.join('')
    parts.length = 0
    if (chunk) yield chunk
  }
  if (writer.tail) yield writer.tail
}
