import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { startInfluxd } from '../../scripts/influxd.ts'
import { describeCheckout } from './baseline-export.ts'
import { cleanupAll, cleanupOnSignals, onCleanup } from './cleanup.ts'
import type { OutboxBenchOptions } from './options.ts'
import { alternate } from './order.ts'
import { renderOutboxReport, summariseOutbox, VARIANTS } from './outbox-report.ts'
import { OUTBOX_ENV, type OutboxRound, runVariant } from './outbox-run.ts'
import { progress } from './progress.ts'

const RESULTS = 'bench-outbox-results.json'

/**
 * `npm run bench -- --outbox` (issue 14, acceptance 5): does a webhook target that is down slow
 * ingest or the other targets? Three variants of this checkout's service, each run fresh, take
 * turns over the rounds in alternating order (A B C, C B A, …): no subscriptions, N healthy
 * subscriptions, and N with one a black hole. The load generator and the receivers are this
 * process. Prints a table, writes bench-outbox-results.json; exit 1 when a healthy delivery went
 * missing or came twice.
 */
export async function runOutboxBench(opt: OutboxBenchOptions, root: string): Promise<number> {
  cleanupOnSignals()
  const startedAt = new Date()
  const here = describeCheckout(root)
  const record: Record<string, unknown> = {
    startedAt: startedAt.toISOString(),
    options: opt,
    serviceEnv: OUTBOX_ENV,
    checkout: { commit: here.commit, dirty: here.dirty },
    host: { cpus: cpus().length, node: process.version, loadavgAtStart: loadavg() },
  }
  let exitCode = 1
  onCleanup(() => {
    record.finishedAt = new Date().toISOString()
    record.host = { ...(record.host as object), loadavgAtEnd: loadavg() }
    writeFileSync(RESULTS, `${JSON.stringify(record, null, 2)}\n`)
    process.stderr.write(`[bench] wrote ${RESULTS}\n`)
  })
  let ts = Date.now() - 6 * 86_400_000 // unique device times for the load, inside the accepted window
  const nextTs = () => ts++
  try {
    const influxd = await startInfluxd()
    onCleanup(() => influxd.stop())
    const rounds: OutboxRound[] = []
    const orders: string[][] = []
    record.rounds = rounds
    record.orders = orders
    for (let round = 1; round <= opt.rounds; round++) {
      const order = alternate(VARIANTS, round)
      orders.push(order)
      for (const [position, variant] of order.entries()) {
        progress(`outbox round ${round}/${opt.rounds}: ${variant}`)
        const r = await runVariant({ variant, round, position, root, influxUrl: influxd.url, opt, nextTs })
        rounds.push(r)
        const d = r.delivery
        progress(
          `  PUBACK p99 ${r.ingest.pubackP99.toFixed(1)} ms` +
            (d ? `, ${r.alerts.events} events, ${d.toDrainPerS.toFixed(0)} deliveries/s, drained ${d.drainS.toFixed(1)} s after` : ''),
        )
      }
    }
    const summary = summariseOutbox(rounds, opt.rounds)
    record.summary = summary
    process.stdout.write(`\n${renderOutboxReport({ opt, orders, summary, tookS: (Date.now() - startedAt.getTime()) / 1000 })}`)
    exitCode = summary.faults === 0 ? 0 : 1
  } catch (e) {
    record.error = (e as Error).stack ?? String(e)
    process.stderr.write(`[bench] failed: ${record.error}\n`)
  } finally {
    await cleanupAll()
  }
  return exitCode
}
