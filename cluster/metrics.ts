import { Gauge, type Registry } from 'prom-client'

/** Cluster mode's own metrics, read when scraped: which partitions this node reads, and how many nodes are live. */
export function clusterMetrics(
  register: Registry,
  node: string,
  partitions: number,
  readers: { owned(): number[]; liveNodes(): number },
  outbox: { readonly holding: boolean },
) {
  new Gauge({
    name: 'sp_partition_owned',
    help: '1 for each log partition this node reads now, 0 for the others (labelled with this node)',
    labelNames: ['partition', 'node'] as const,
    registers: [register],
    collect() {
      const mine = new Set(readers.owned())
      for (let p = 0; p < partitions; p++) this.set({ partition: `p${p}`, node }, mine.has(p) ? 1 : 0)
    },
  })
  new Gauge({
    name: 'sp_cluster_nodes_live',
    help: 'Nodes whose heartbeat this node sees',
    registers: [register],
    collect() {
      this.set(readers.liveNodes())
    },
  })
  new Gauge({
    name: 'sp_outbox_here',
    help: '1 while the outbox runs on this node',
    registers: [register],
    collect() {
      this.set(outbox.holding ? 1 : 0)
    },
  })
}
