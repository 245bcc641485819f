import type { ReadyCheck } from '../dashboards/routes/health.ts'
import type { InfluxQuery } from '../influx/query.ts'
import type { DurableLog } from '../log/port.ts'
import type { Reader } from '../log/reader.ts'
import { segmentName } from '../log/segments.ts'

/** Damage of acknowledged data keeps `/ready` degraded this long after it was last seen, so monitoring cannot miss it. */
const DAMAGE_ALERT_MS = 15 * 60_000

/** A reader whose oldest unhandled record is older than this counts as stuck. */
const BEHIND_MS = 5 * 60_000

const seconds = (ms: number | null) => (ms === null ? '' : `, oldest ${Math.round(ms / 1000)} s`)

/**
 * `/ready`: degraded, with the reason, while InfluxDB is unreachable, the log
 * refuses appends, any reader is failing, or damaged records were skipped lately.
 */
export async function readiness(deps: {
  influx: InfluxQuery
  influxUrl: string
  influxWriter: { readonly lastError: string | null }
  log: Pick<DurableLog, 'refusal' | 'stats' | 'damage'>
  readers: readonly Pick<Reader, 'name' | 'status'>[]
  /** Cluster mode: this node, its partitions and the engines it needs (null on one machine). */
  cluster?: (() => Promise<ReadyCheck['checks']>) | null
}): Promise<ReadyCheck> {
  const checks: ReadyCheck['checks'] = {}
  const ping = await deps.influx.ping()
  const writeError = deps.influxWriter.lastError
  checks.influxdb =
    ping && !writeError ? { ok: true } : { ok: false, detail: ping ? `writes failing: ${writeError}` : `unreachable at ${deps.influxUrl}` }

  if (deps.cluster) Object.assign(checks, await deps.cluster())
  const refusal = deps.log.refusal
  const stats = deps.log.stats()
  const found = deps.log.damage
  const last = found.at(-1)
  const atStart = last
    ? `; ${found.length} damaged or torn place(s) found at start, latest in ${segmentName(last.segment)} at offset ${last.offset}: ${last.reason}`
    : ''
  checks.log = refusal
    ? { ok: false, detail: `refusing readings since ${new Date(refusal.since).toISOString()} (${refusal.code}): ${refusal.detail}` }
    : {
        ok: true,
        detail: `appending; ${stats.bytes} bytes in ${stats.segments} segments${stats.free === null ? '' : `, ${stats.free} bytes free`}${atStart}`,
      }

  for (const r of deps.readers) {
    const s = r.status()
    const recent = s.damage.filter((d) => Date.now() - d.at < DAMAGE_ALERT_MS)
    const lag = `${s.lagRecords} records (${s.lagBytes} bytes) waiting${seconds(s.oldestMs)}`
    const damage = s.damage.length
      ? `; ${s.damage.length} damaged record(s) skipped, latest in ${segmentName(s.damage.at(-1)!.segment)} at offset ${s.damage.at(-1)!.offset}: ${s.damage.at(-1)!.reason}`
      : ''
    if (s.error)
      checks[`reader:${r.name}`] = {
        ok: false,
        detail: `failing for ${Math.round((s.failingSinceMs ?? 0) / 1000)} s: ${s.error}; ${lag}${damage}`,
      }
    else if (s.oldestMs !== null && s.oldestMs > BEHIND_MS)
      // No error, yet not keeping up (a hung store call, or a long backlog): say so rather than look healthy.
      checks[`reader:${r.name}`] = { ok: false, detail: `behind: ${lag}${damage}` }
    else checks[`reader:${r.name}`] = { ok: recent.length === 0, detail: `${lag}${damage}` }
  }
  return { ok: Object.values(checks).every((c) => c.ok), checks }
}

/**
 * Where the outbox runs. Held here but refused its fence, it sends nothing: a newer epoch holds the
 * fence, which happens when NATS's lease bucket was made anew while PostgreSQL kept its fences.
 */
const outboxCheck = (outbox: { readonly holding: boolean; refused(): string | null }): { ok: boolean; detail: string } => {
  if (!outbox.holding) return { ok: true, detail: 'runs on another node' }
  const refused = outbox.refused()
  return refused === null
    ? { ok: true, detail: 'runs on this node' }
    : { ok: false, detail: `held by this node but sends nothing: ${refused} (NATS state made anew? README: Cluster mode)` }
}

const following = (since: number | null): { ok: boolean; detail: string } =>
  since === null
    ? { ok: true, detail: 'not following the stream now (starting again): latest readings of devices read by other nodes may lag' }
    : { ok: true, detail: `following the stream since ${new Date(since).toISOString()}` }

/**
 * Cluster mode's part of `/ready`: the NATS servers and the stream's replicas (why appends are refused
 * while a quorum is missing), which partitions this node reads, where the outbox runs, and whether
 * this node follows the whole stream for its live views (cluster/live-follow.ts).
 */
export function clusterHealth(
  node: string,
  stream: { readonly health: string; readonly refusal: { detail: string } | null; connectionStatus(): string },
  readers: { owned(): number[]; liveNodes(): number; purgeOff(): string | null },
  partitions: number,
  outbox: { readonly holding: boolean; refused(): string | null },
  followingSince: () => number | null,
): () => Promise<ReadyCheck['checks']> {
  return async () => {
    const owned = readers.owned()
    const nats = stream.connectionStatus()
    return {
      nats:
        nats === 'connected'
          ? { ok: true, detail: `connected; stream ${stream.health}` }
          : { ok: false, detail: `${nats}; stream ${stream.health}` },
      partitions: {
        ok: true,
        detail: `node ${node} reads ${owned.length} of ${partitions} partition(s)${owned.length ? ` (${owned.map((p) => `p${p}`).join(', ')})` : ''}; ${readers.liveNodes()} node(s) live`,
      },
      outbox: outboxCheck(outbox),
      // Not a reason to take the node out of the balancer: it still takes and reads readings; only its views of
      // devices read elsewhere may be a little behind until the follow starts again (by itself, within a second).
      follow: following(followingSince()),
      // Not a fault of this node: the stream only keeps more, up to its ceiling (then readings are refused, never dropped).
      purge: { ok: true, detail: readers.purgeOff() === null ? 'on' : `off: ${readers.purgeOff()}` },
    }
  }
}
