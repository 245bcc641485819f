import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startInfluxd } from '../../scripts/influxd.ts'
import { launchChromium } from '../helpers/browser.ts'
import { type CrewFleet, measureCrewLive, measureCrewLoad, setupCrewFleet } from '../helpers/crew-fleet.ts'
import { startService, type TestService } from '../helpers/service.ts'
import { describeCheckout, exportBaseline } from './baseline-export.ts'
import { cleanupAll, cleanupOnSignals, onCleanup } from './cleanup.ts'
import { alternate } from './order.ts'
import { progress } from './progress.ts'
import { type Spread, spread } from './stats.ts'

// `npm run bench:web`: the crew view with 2,000 bins, 500 boilers and 100 meters in Debian's Chromium
// (issue 11, acceptance 3). Each web app (this checkout's, and with --baseline <ref> that commit's,
// both served by this checkout's server) has its own service and fleet; the rounds alternate which
// goes first. Per round: a throttled cold visit (1.6 Mbit/s, 150 ms, CPU 4×), the next visit with the
// app's files cached (a crew's next morning), and 500 readings/s live.
const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    baseline: { type: 'string' },
    'live-seconds': { type: 'string', default: '6' },
  },
})
const ROUNDS = Number(opt.rounds)
const LIVE_SECONDS = Number(opt['live-seconds'])
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
cleanupOnSignals()

interface Path {
  name: string
  label: string
  webRoot: string
  svc?: TestService
  fleet?: CrewFleet
}
interface Round {
  path: string
  round: number
  shownMs: number
  interactiveMs: number
  warmShownMs: number
  warmInteractiveMs: number
  jsKB: number
  longestTaskMs: number
  longTasks: number
  liveAcked: number
}

const build = (config: string, outDir: string) =>
  execFileSync('npx', ['--no-install', 'vite', 'build', '--config', config, '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  })

let exitCode = 1
const record: Record<string, unknown> = { startedAt: new Date().toISOString(), host: { cpus: cpus().length, loadavgAtStart: loadavg() } }
onCleanup(() => writeFileSync('bench-web-results.json', `${JSON.stringify(record, null, 2)}\n`))
try {
  const influxd = await startInfluxd()
  onCleanup(() => influxd.stop())
  const here = describeCheckout(ROOT)
  const dirs = mkdtempSync(join(tmpdir(), 'sp-bench-web-'))
  onCleanup(() => rmSync(dirs, { recursive: true, force: true }))
  const paths: Path[] = [
    {
      name: 'ours',
      label: `web app at ${here.commit?.slice(0, 7) ?? 'this checkout'}${here.dirty ? ' + changes' : ''}`,
      webRoot: join(dirs, 'ours'),
    },
  ]
  progress('building this checkout’s web app')
  build(join(ROOT, 'dashboards/web/vite.config.ts'), paths[0]!.webRoot)
  if (opt.baseline) {
    const b = exportBaseline(ROOT, opt.baseline)
    onCleanup(() => b.remove())
    progress(`building ${b.commit.slice(0, 7)}’s web app`)
    const webRoot = join(dirs, 'baseline')
    build(join(b.root, 'dashboards/web/vite.config.ts'), webRoot)
    paths.push({ name: 'baseline', label: `web app at ${b.commit.slice(0, 7)}`, webRoot })
  }
  for (const p of paths) {
    progress(`${p.label}: service and fleet`)
    p.svc = await startService({ MQTT_DEVICE_RATE: '0', LOG_LEVEL: 'warn' }, { webRoot: p.webRoot, influxUrl: influxd.url })
    onCleanup(() => p.svc!.close())
    p.fleet = await setupCrewFleet(p.svc)
  }
  const browser = await launchChromium()
  onCleanup(() => browser.close())
  const rounds: Round[] = []
  record.rounds = rounds
  for (let round = 1; round <= ROUNDS; round++)
    for (const p of alternate(paths, round)) {
      progress(`round ${round}/${ROUNDS}: ${p.label}`)
      const load = await measureCrewLoad(browser, p.svc!.service.httpUrl, p.fleet!.crew)
      const live = await measureCrewLive(browser, p.svc!.service.httpUrl, p.fleet!, 500, LIVE_SECONDS)
      rounds.push({
        path: p.name,
        round,
        shownMs: Math.round(load.shownMs),
        interactiveMs: Math.round(load.interactiveMs),
        warmShownMs: Math.round(load.warm.shownMs),
        warmInteractiveMs: Math.round(load.warm.interactiveMs),
        jsKB: Math.round(load.jsBytes / 102.4) / 10,
        longestTaskMs: Math.max(0, ...live.longTasks),
        longTasks: live.longTasks.length,
        liveAcked: live.acked,
      })
    }
  const fmt = (s: Spread | null, unit: string) => (s ? `${s.median}${unit} [${s.min}–${s.max}]` : '–')
  const rows: [string, keyof Round, string, string][] = [
    ['crew view interactive, throttled phone', 'interactiveMs', ' ms', '≤ 2,000 ms'],
    ['list shown, throttled phone', 'shownMs', ' ms', ''],
    ['interactive, the next visit (app files cached)', 'warmInteractiveMs', ' ms', ''],
    ['list shown, the next visit', 'warmShownMs', ' ms', ''],
    ['JavaScript shipped (compressed)', 'jsKB', ' KB', '≤ 150 KB'],
    ['longest main-thread task at 500 readings/s', 'longestTaskMs', ' ms', '≤ 50 ms (0: none over 50)'],
    ['long tasks at 500 readings/s', 'longTasks', '', '0'],
  ]
  const summary = rows.map(([what, key, unit, target]) => ({
    what,
    target,
    unit,
    by: Object.fromEntries(paths.map((p) => [p.name, spread(rounds.filter((r) => r.path === p.name).map((r) => r[key] as number))])),
  }))
  record.summary = summary
  const lines = [
    `crew view, 2,000 bins + 500 boilers + 100 meters, ${ROUNDS} rounds (median [min–max]); host ${cpus().length} cores`,
    ...paths.map((p, i) => `  ${String.fromCharCode(65 + i)}: ${p.label}`),
    '',
    `| figure | ${paths.map((_, i) => String.fromCharCode(65 + i)).join(' | ')} | target |`,
    `|---|${paths.map(() => '---|').join('')}---|`,
    ...summary.map((s) => `| ${s.what} | ${paths.map((p) => fmt(s.by[p.name] ?? null, s.unit)).join(' | ')} | ${s.target} |`),
  ]
  process.stdout.write(`\n${lines.join('\n')}\n`)
  exitCode = 0
} catch (e) {
  record.error = (e as Error).stack ?? String(e)
  process.stderr.write(`[bench:web] failed: ${record.error}\n`)
} finally {
  await cleanupAll()
}
process.exit(exitCode)
