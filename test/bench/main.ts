import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { startInfluxd } from '../../scripts/influxd.ts'
import { describeCheckout, exportBaseline } from './baseline-export.ts'
import { cleanupAll, cleanupOnSignals, onCleanup } from './cleanup.ts'
import { parseBenchOptions } from './options.ts'
import { alternate } from './order.ts'
import { type PathDef, peerPath, servicePath } from './paths.ts'
import { progress } from './progress.ts'
import { type ReportPath, renderReport } from './report.ts'
import { measurePath, type PathRound } from './round.ts'
import { unreadEnv } from './service-process.ts'
import { type SingleRun, singleRunPhases } from './single-run.ts'
import { spread } from './stats.ts'
import { summarise } from './summary.ts'
import { checkTargets } from './targets.ts'

// `npm run bench`: every process it needs (influxd, the services, Mosquitto and the peer
// subscriber) is started here and stopped at the end; the load generator is this process.
// The paths take turns over several rounds, in alternating order, because one phase on a
// shared 2-core host can swing by half either way. Prints a table, writes bench-results.json.
const opt = (() => {
  try {
    return parseBenchOptions(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`)
    process.exit(2)
  }
})()
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
if (opt.outbox) {
  const { runOutboxBench } = await import('./outbox-main.ts')
  process.exit(await runOutboxBench(opt.outbox, ROOT))
}
if (opt.cluster) {
  const { runClusterBench } = await import('./cluster-main.ts')
  process.exit(await runClusterBench(opt.cluster, ROOT))
}
cleanupOnSignals()

let ts = Date.now() - 6 * 86_400_000 // unique device times, inside the accepted window
const nextTs = () => ts++
const startedAt = new Date()
const record: Record<string, unknown> = {
  startedAt: startedAt.toISOString(),
  options: opt,
  host: { cpus: cpus().length, node: process.version, loadavgAtStart: loadavg() },
}
let exitCode = 1
// Registered first so that it runs last, after the processes stopped: on failure and on Ctrl-C
// too, since the rounds that finished are still worth reading.
onCleanup(() => {
  record.finishedAt = new Date().toISOString()
  record.host = { ...(record.host as object), loadavgAtEnd: loadavg() }
  writeFileSync('bench-results.json', `${JSON.stringify(record, null, 2)}\n`)
  process.stderr.write('[bench] wrote bench-results.json\n')
})

try {
  const influxd = await startInfluxd()
  onCleanup(() => influxd.stop())

  const here = describeCheckout(ROOT)
  const hereLabel = here.commit ? `${here.commit.slice(0, 7)}${here.dirty ? ' + uncommitted changes' : ''}` : 'not a git checkout'
  const ours = servicePath('ours', `smartplace, this checkout (${hereLabel})`, ROOT)
  const paths: PathDef[] = [ours, peerPath()]
  const meta: Record<string, unknown>[] = [
    { name: 'ours', label: ours.label, commit: here.commit, dirty: here.dirty, unreadEnv: unreadEnv(ROOT) },
    { name: 'peer', label: 'Mosquitto + subscriber' },
  ]
  if (opt.baseline) {
    progress(`exporting ${opt.baseline}`)
    const b = exportBaseline(ROOT, opt.baseline)
    onCleanup(() => b.remove())
    const short = b.commit.slice(0, 7)
    const label = b.commit.startsWith(opt.baseline) ? `smartplace at ${short}` : `smartplace at ${opt.baseline} (${short})`
    paths.push(servicePath('baseline', label, b.root))
    const unread = unreadEnv(b.root)
    meta.push({ name: 'baseline', label, ref: b.ref, commit: b.commit, lockfileDiffers: b.lockfileDiffers, unreadEnv: unread })
    if (b.lockfileDiffers) progress(`note: ${b.commit.slice(0, 7)}'s package-lock.json differs; it runs with this checkout's node_modules`)
    if (unread.length > 0) progress(`note: ${b.commit.slice(0, 7)} does not read ${unread.join(', ')}; it runs with its own defaults there`)
  }
  record.paths = meta

  const results: PathRound[] = []
  const orders: string[][] = []
  record.rounds = results
  record.orders = orders
  for (let round = 1; round <= opt.rounds; round++) {
    const order = alternate(paths, round)
    orders.push(order.map((p) => p.name))
    for (const [position, path] of order.entries()) {
      progress(`round ${round}/${opt.rounds}: ${path.label}`)
      // A database per path and round: counts start at zero and no round inherits another's data.
      const db = `${path.name}_r${round}`
      results.push(
        await measurePath({ path, influxUrl: influxd.url, db, round, position, seconds: opt.seconds, devices: opt.devices, nextTs }),
      )
    }
  }

  const names = paths.map((p) => p.name)
  const summary = summarise(names, results, opt.rounds)
  const targetPaths = names.filter((n) => n !== 'peer')
  const targets = checkTargets(targetPaths, results)
  record.summary = summary
  record.targets = targets

  let single: SingleRun | null = null
  if (!opt.roundsOnly) {
    const sustainable = spread(results.filter((r) => r.path === 'ours').map((r) => r.max.confirmed))!.median
    single = await singleRunPhases({ ours, root: ROOT, influxd, opt, sustainable, nextTs })
    record.single = single.results
  }

  const lost = results.filter((r) => r.path === 'ours').reduce((a, r) => a + r.lost, 0) + (single?.lost ?? 0)
  record.lost = lost
  const reportPaths: ReportPath[] = paths.map((p, i) => ({ name: p.name, letter: String.fromCharCode(65 + i), label: p.label }))
  process.stdout.write(
    `\n${renderReport({
      opt,
      paths: reportPaths,
      orders,
      summary,
      targets,
      targetPaths: reportPaths.filter((p) => targetPaths.includes(p.name)),
      single,
      lost,
      tookS: (Date.now() - startedAt.getTime()) / 1000,
    })}`,
  )
  exitCode = lost === 0 ? 0 : 1
} catch (e) {
  record.error = (e as Error).stack ?? String(e)
  process.stderr.write(`[bench] failed: ${record.error}\n`)
} finally {
  await cleanupAll()
}
process.exit(exitCode)
