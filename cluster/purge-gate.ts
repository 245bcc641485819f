/**
 * nats-server before 2.9.18, when a restarted replica of a clustered stream recovers, replays a
 * purge of one subject as a purge of every subject up to it (nats-io/nats-server#4196, fixed by
 * #4212). Our purges are of one partition's subject, and a restarted server is what the NATS-kill
 * test does: on Debian's nats-server 2.9.10 that deletes other partitions' acknowledged, unread
 * records (test/cluster/nats-purge-replay.test.ts shows it), so the purge stays off there.
 */
const SAFE_FROM = [2, 9, 18] as const

/** Whether a server of this version (its INFO's `version`, "2.10.24") purges a subject safely across a restart. */
export function purgeSafeOn(version: string | undefined): boolean {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version ?? '')
  if (!m) return false
  for (let i = 0; i < 3; i++) {
    const have = Number(m[i + 1])
    if (have !== SAFE_FROM[i]) return have > SAFE_FROM[i]!
  }
  return true
}

export type PurgePlan = { everyMs: number } | { off: string }

/** How often to purge what every reader has made durable, or why not at all. */
export function purgePlan(everyMs: number | undefined, serverVersion: string | undefined): PurgePlan {
  if (!everyMs) return { off: 'CLUSTER_PURGE_EVERY_S is 0' }
  if (!purgeSafeOn(serverVersion))
    return {
      off:
        `nats-server ${serverVersion ?? '(version unknown)'} replays a purge of one subject as a purge of every subject up to it ` +
        'when a restarted server recovers (nats-server#4196, fixed in 2.9.18): the stream keeps every record until its ceiling, ' +
        'where new readings are refused, never dropped. Upgrade the NATS servers to purge.',
    }
  return { everyMs }
}
