import { describe, expect, it } from 'vitest'
import { purgePlan, purgeSafeOn } from '../../cluster/purge-gate.ts'

// Issue 15: the stream is purged of what every reader has made durable, except on a nats-server that
// would replay such a purge, after a restart, as a purge of the whole stream (nats-server#4196).
describe('the stream purge, by NATS server version', () => {
  it('is safe from 2.9.18 on, and not before or when the version is unknown', () => {
    for (const v of ['2.9.18', '2.9.25', '2.10.0', '2.10.24', 'v2.11.1', '3.0.0']) expect([v, purgeSafeOn(v)]).toEqual([v, true])
    for (const v of ['2.9.10', '2.9.17', '2.8.4', '1.4.1', '', 'nonsense', undefined]) expect([v, purgeSafeOn(v)]).toEqual([v, false])
  })

  it('runs at the configured interval on a safe server, and says why not otherwise', () => {
    expect(purgePlan(10_000, '2.10.24')).toEqual({ everyMs: 10_000 })
    expect(purgePlan(0, '2.10.24')).toEqual({ off: 'CLUSTER_PURGE_EVERY_S is 0' })
    expect(purgePlan(undefined, '2.10.24')).toEqual({ off: 'CLUSTER_PURGE_EVERY_S is 0' })
    const off = purgePlan(10_000, '2.9.10')
    expect('off' in off && off.off).toMatch(
      /^nats-server 2\.9\.10 replays a purge of one subject as a purge of every subject up to it .*nats-server#4196, fixed in 2\.9\.18/,
    )
    expect('off' in off && off.off).toMatch(/new readings are refused, never dropped\. Upgrade the NATS servers to purge\.$/)
  })
})
