import type { NatsConnection } from 'nats'
import type { Logger } from 'pino'
import { createPartitionLeases } from './partition-leases.ts'

/**
 * A part of the service that runs on one node of the cluster at a time (the outbox's senders): a
 * lease of one "partition" in a bucket of its own. The node holding it runs the part; when it
 * stops cleanly the part is closed first and the lease handed on, and when it dies the lease
 * expires and another node starts the part, which resumes from the store.
 */
export function createSingleton(deps: {
  name: string
  nc: () => NatsConnection
  node: string
  replicas: number
  ttlMs: number
  log: Logger
  /** `epoch`: the lease's revision when taken, which only grows (a fence for what the part commits). */
  start(epoch: number): Promise<void>
  stop(deadline: number): Promise<void>
}) {
  let holding = false
  const leases = () =>
    createPartitionLeases(
      { node: deps.node, partitions: 1, replicas: deps.replicas, ttlMs: deps.ttlMs, bucket: `sp_singleton_${deps.name}` },
      {
        nc: deps.nc(),
        log: deps.log,
        acquired: async (_p, epoch) => {
          holding = true
          deps.log.info({ part: deps.name, node: deps.node }, 'this node runs it now')
          await deps.start(epoch)
        },
        released: async (_p, drain) => {
          holding = false
          await deps.stop(drain ? Date.now() + 5_000 : Date.now())
        },
      },
    )
  let l: ReturnType<typeof leases> | null = null
  return {
    async start(deadline?: number) {
      l = leases()
      await l.start(deadline)
    },
    get holding() {
      return holding
    },
    async close(deadline = Date.now() + 5_000) {
      await l?.close(deadline)
    },
  }
}
