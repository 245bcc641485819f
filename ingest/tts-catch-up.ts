import type { TtsIngest } from './tts-ingest.ts'
import type { TtsOutcome } from './tts-metrics.ts'

export interface CatchUpRequest {
  /** The TTS cluster, e.g. https://eu1.cloud.thethings.network */
  baseUrl: string
  applicationId: string
  /** A TTS API key with RIGHT_APPLICATION_TRAFFIC_READ; used for this fetch only, never stored. */
  apiKey: string
  /** RFC 3339: uplinks TTS received after this time. */
  after: string
  limit: number
}

export interface CatchUpResult {
  fetched: number
  outcomes: Partial<Record<TtsOutcome, number>>
  /** received_at of the last uplink taken: the `after` of the next call. */
  lastReceivedAt: string | null
  /** Why it stopped before the end of what TTS sent, if it did. */
  stopped: string | null
}

/** One line of TTS's answer is one uplink document; none is near this. */
const MAX_LINE = 256 * 1024

/**
 * After an outage of the webhook, fetches the missed uplinks from TTS's Storage Integration
 * (`GET /api/v3/as/applications/{app}/packages/storage/uplink_message?after=…`, standards.md §6)
 * and takes each as if the webhook had posted it: already-taken ones are repeats and land once.
 * Stops at the first the log refuses, saying where to resume. Throws when TTS cannot be reached or refuses.
 */
export async function catchUp(req: CatchUpRequest, ingest: TtsIngest, fetchImpl: typeof fetch = fetch): Promise<CatchUpResult> {
  const url = new URL(`/api/v3/as/applications/${encodeURIComponent(req.applicationId)}/packages/storage/uplink_message`, req.baseUrl)
  url.search = new URLSearchParams({ after: req.after, order: 'received_at', limit: String(req.limit) }).toString()
  const res = await fetchImpl(url, {
    headers: { authorization: `Bearer ${req.apiKey}`, accept: 'text/event-stream' },
    redirect: 'error',
    signal: AbortSignal.timeout(60_000),
  })
  if (!res.ok || !res.body) throw new Error(`TTS answered ${res.status} ${res.statusText}`.trim())
  const result: CatchUpResult = { fetched: 0, outcomes: {}, lastReceivedAt: null, stopped: null }
  const decoder = new TextDecoder()
  let buffer = ''
  const take = async (line: string): Promise<boolean> => {
    const text = line.replace(/^data:\s*/, '').trim()
    if (!text) return true
    let up: unknown
    try {
      up = (JSON.parse(text) as { result?: unknown }).result
    } catch {
      result.stopped = 'TTS sent a line that is not JSON'
      return false
    }
    result.fetched++
    const r = await ingest.handleUplink(req.applicationId, up)
    result.outcomes[r.outcome] = (result.outcomes[r.outcome] ?? 0) + 1
    if (r.outcome === 'refused') {
      result.stopped = r.detail
      return false
    }
    const at = (up as { received_at?: unknown }).received_at
    if (typeof at === 'string') result.lastReceivedAt = at
    return result.fetched < req.limit
  }
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    let nl = buffer.indexOf('\n')
    while (nl >= 0) {
      if (!(await take(buffer.slice(0, nl)))) return result
      buffer = buffer.slice(nl + 1)
      nl = buffer.indexOf('\n')
    }
    if (buffer.length > MAX_LINE) {
      result.stopped = `a line longer than ${MAX_LINE} bytes`
      return result
    }
  }
  await take(buffer)
  return result
}
