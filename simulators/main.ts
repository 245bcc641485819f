import { parseArgs } from 'node:util'
import { createFleet } from './fleet.ts'
import { apiProvisioner, fleetSpecs, provisionFleet } from './provision.ts'
import { SCENARIOS, scenarioByName } from './scenarios/catalog.ts'
import { planScenario } from './scenarios/plan.ts'
import { runPlan } from './scenarios/runner.ts'

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    api: { type: 'string', default: 'http://127.0.0.1:3000' },
    token: { type: 'string' },
    bins: { type: 'string', default: '10' },
    boilers: { type: 'string', default: '10' },
    meters: { type: 'string', default: '5' },
    rooms: { type: 'string', default: '10' },
    weather: { type: 'string', default: '1' },
    speed: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    interval: { type: 'string' },
    format: { type: 'string', default: 'json' },
    duration: { type: 'string', default: '0' },
    prefix: { type: 'string', default: 'sim' },
    credentials: { type: 'string', default: './data/sim-credentials.json' },
    scenario: { type: 'string' },
    'broker-only': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})

if (values.help) {
  process.stdout.write(`npm run sim -- [--bins N] [--boilers N] [--meters N] [--rooms N] [--weather N] [--speed X] [--seed S] [--duration SECONDS]
  --rooms N          room humidity sensors, one in each of the first N homes with a boiler (default 10)
  --weather N        weather sensors on the estate (default 1)
  --url MQTT_URL     broker (default mqtt://127.0.0.1:1883)
  --api URL          smartplace API used to provision devices (default http://127.0.0.1:3000)
  --token TOKEN      admin token (or ADMIN_TOKEN in the environment)
  --credentials FILE device secrets are kept here (mode 0600) and reused
  --interval SECONDS override every type's reporting interval (simulated seconds)
  --format json|senml payload format (default json)
  --broker-only      no provisioning, no passwords: for any MQTT 3.1.1 broker without device credentials
  --scenario NAME    play a named scenario instead of a fleet and print the alerts it expects:
                     ${SCENARIOS.map((x) => x.name).join(', ')}
`)
  process.exit(0)
}

const num = (name: string, v: string | undefined) => {
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${name} must be a non-negative number, got ${v}\n`)
    process.exit(2)
  }
  return n
}

const token = values.token ?? process.env.ADMIN_TOKEN

if (values.scenario) {
  const scenario = scenarioByName(values.scenario)
  if (!scenario) {
    process.stderr.write(`no scenario ${values.scenario}; try one of: ${SCENARIOS.map((x) => x.name).join(', ')}\n`)
    process.exit(2)
  }
  if (!token) {
    process.stderr.write('a scenario provisions its devices: pass --token or set ADMIN_TOKEN\n')
    process.exit(2)
  }
  const plan = planScenario(scenario, Number(values.seed))
  process.stdout.write(
    `${scenario.name}: ${scenario.description}\nexpected alerts:\n${plan.alerts.map((a) => `  ${a.device} ${a.rule}`).join('\n') || '  none'}\n`,
  )
  if (plan.quarantine.length)
    process.stdout.write(`expected in quarantine:\n${plan.quarantine.map((q) => `  ${q.device} ${q.code}`).join('\n')}\n`)
  const prefix = `${values.prefix}-${scenario.name}-${Date.now().toString(36)}`
  const r = await runPlan(plan, { url: values.url, provision: apiProvisioner(values.api, token), prefix, api: { url: values.api, token } })
  process.stdout.write(`sent ${r.sent} messages as ${prefix}-*\n`)
  process.exit(0)
}
const seed = num('seed', values.seed)
const specs = fleetSpecs(
  {
    bin: num('bins', values.bins),
    boiler: num('boilers', values.boilers),
    meter: num('meters', values.meters),
    room: num('rooms', values.rooms),
    weather: num('weather', values.weather),
  },
  seed,
  values.prefix,
)
const provision = token
  ? apiProvisioner(values.api, token)
  : async () => {
      throw new Error('new devices need an admin token: pass --token or set ADMIN_TOKEN')
    }
const devices = values['broker-only']
  ? specs.map((s) => ({ id: s.id, secret: '', type: s.type, site: s.site }))
  : await provisionFleet(specs, provision, values.credentials)
if (values.format !== 'json' && values.format !== 'senml') {
  process.stderr.write(`--format must be json or senml, got ${values.format}\n`)
  process.exit(2)
}
const fleet = createFleet({
  url: values.url,
  format: values.format,
  devices,
  speed: num('speed', values.speed),
  seed,
  ...(values.interval ? { intervalS: num('interval', values.interval) } : {}),
})
await fleet.start()

const tty = process.stdout.isTTY
let lastAcked = 0
const progress = setInterval(() => {
  const s = fleet.stats
  const line = `devices ${s.connected}/${devices.length} connected, sent ${s.sent}, acked ${s.acked} (${((s.acked - lastAcked) / 2).toFixed(0)}/s), errors ${s.errors}, reconnects ${s.reconnects}`
  lastAcked = s.acked
  process.stdout.write(tty ? `\r${line}   ` : `${line}\n`)
}, 2_000)

const stop = async () => {
  clearInterval(progress)
  await fleet.close()
  process.stdout.write('\n')
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
const duration = num('duration', values.duration)
if (duration > 0) setTimeout(stop, duration * 1000)
