import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { startInfluxd } from '../../scripts/influxd.ts'
import { startPostgres } from '../../scripts/postgres.ts'
import { describeCheckout } from './baseline-export.ts'
import { cleanupAll, cleanupOnSignals, onCleanup } from './cleanup.ts'
import type { ClusterBenchOptions } from './cluster-options.ts'
import { postmasterPid } from './cluster-proc.ts'
import { renderClusterReport, summariseCluster } from './cluster-report.ts'
import { type ClusterPath, type ClusterRound, runClusterPath } from './cluster-run.ts'
import { alternate } from './order.ts'
import { progress } from './progress.ts'

const RESULTS = 'bench-cluster-results.json'
const REPORT = 'bench-cluster-results.md'

/**
 * `npm run bench -- --cluster` (issue 15): what cluster mode costs per reading. One node with the
 * default config (A) and a three-node cluster on loopback (B) take turns over the rounds in
 * alternating order under the same load; every process of each path is measured (CPU from /proc),
 * and what was acknowledged is counted in InfluxDB. On two cores this shows correctness and
 * overhead, not a throughput gain. Prints a table and a capacity model, writes
 * bench-cluster-results.json and .md; exit 1 when an acknowledged reading did not land.
 */
export async function runClusterBench(opt: ClusterBenchOptions, root: string): Promise<number> {
  cleanupOnSignals()
  const startedAt = new Date()
  const here = describeCheckout(root)
  const host = { cpus: cpus().length, model: cpus()[0]?.model ?? '?', node: process.version, loadavgAtStart: loadavg() }
  const record: Record<string, unknown> = {
    startedAt: startedAt.toISOString(),
    options: opt,
    checkout: { commit: here.commit, dirty: here.dirty },
    host,
  }
  let exitCode = 1
  let report = ''
  onCleanup(() => {
    record.finishedAt = new Date().toISOString()
    record.host = { ...(record.host as object), loadavgAtEnd: loadavg() }
    writeFileSync(RESULTS, `${JSON.stringify(record, null, 2)}\n`)
    if (report) writeFileSync(REPORT, `# npm run bench -- --cluster\n\n${startedAt.toISOString()}\n\n\`\`\`text\n${report}\`\`\`\n`)
    process.stderr.write(`[bench] wrote ${RESULTS}${report ? ` and ${REPORT}` : ''}\n`)
  })
  let ts = Date.now() - 6 * 86_400_000 // unique device times, inside the accepted window
  let issued = 0
  const nextTs = () => {
    issued++
    return ts++
  }
  try {
    const influxd = await startInfluxd()
    onCleanup(() => influxd.stop())
    // One PostgreSQL for the run (temporary, fsync off, as the tests run it); each B round has its own database.
    const pg = await startPostgres()
    onCleanup(() => pg.stop())
    const postmaster = postmasterPid(pg.dir)

    const rounds: ClusterRound[] = []
    const orders: string[][] = []
    record.rounds = rounds
    record.orders = orders
    const paths: ClusterPath[] = ['A', 'B']
    for (let round = 1; round <= opt.rounds; round++) {
      const order = alternate(paths, round)
      orders.push(order)
      for (const [position, path] of order.entries()) {
        progress(`cluster round ${round}/${opt.rounds}: ${path === 'A' ? 'A, one node' : 'B, three-node cluster'}`)
        const r = await runClusterPath({
          path,
          round,
          position,
          root,
          influxUrl: influxd.url,
          influxdPid: influxd.pid,
          pg: { url: pg.url, postmaster },
          opt,
          nextTs,
          issued: () => issued,
        })
        rounds.push(r)
        progress(
          `  ${r.acked} acked, ${r.landed} landed; CPU ms/reading services ${r.msPerReading.services.toFixed(3)}` +
            (r.msPerReading.engines === null ? '' : `, +engines ${r.msPerReading.servicesEngines.toFixed(3)}`) +
            `; PUBACK p99 ${r.pubackP99.toFixed(1)} ms`,
        )
      }
    }
    const summary = summariseCluster(rounds, opt.rounds)
    record.summary = summary
    report = renderClusterReport({
      opt,
      orders,
      summary,
      rounds,
      tookS: (Date.now() - startedAt.getTime()) / 1000,
      host: `${host.cpus} cores (${host.model}), Node ${host.node}, load average at start ${host.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}`,
    })
    process.stdout.write(`\n${report}`)
    exitCode = summary.lost === 0 ? 0 : 1
  } catch (e) {
    record.error = (e as Error).stack ?? String(e)
    process.stderr.write(`[bench] failed: ${record.error}\n`)
  } finally {
    await cleanupAll()
  }
  return exitCode
}
