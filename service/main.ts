import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { loadTls, TlsConfigError } from '../broker/tls.ts'
import { startInfluxd } from '../scripts/influxd.ts'
import { startFirstLook } from '../simulators/first-look.ts'
import { createFleet } from '../simulators/fleet.ts'
import { fleetSpecs, type Provisioner, provisionFleet } from '../simulators/provision.ts'
import { parseConfig } from './config.ts'
import { createService } from './service.ts'

const { values: args } = parseArgs({
  options: {
    sim: { type: 'boolean', default: false },
    bins: { type: 'string', default: '20' },
    boilers: { type: 'string', default: '20' },
    meters: { type: 'string', default: '10' },
    speed: { type: 'string', default: '60' },
    // The named demo devices that give every view an open alert on a fresh start (simulators/first-look.ts).
    'no-first-look': { type: 'boolean', default: false },
  },
})

const parsed = parseConfig(process.env)
if (!parsed.ok) {
  process.stderr.write(
    `CONFIG_INVALID: fix these environment variables and start again:\n${parsed.errors.map((e) => `  - ${e}`).join('\n')}\n`,
  )
  process.exit(2)
}
const config = parsed.config
// Checked before anything starts, like the variables: a certificate that cannot be served is a configuration error.
if (config.MQTT_TLS_CERT && config.MQTT_TLS_KEY) {
  try {
    loadTls({ certFile: config.MQTT_TLS_CERT, keyFile: config.MQTT_TLS_KEY })
  } catch (e) {
    if (!(e instanceof TlsConfigError)) throw e
    process.stderr.write(`${e.code}: ${e.message}\n  ${e.hint}\n`)
    process.exit(2)
  }
}
if (args.sim && config.MQTT_PORT === null) {
  process.stderr.write('CONFIG_INVALID: the simulated fleet (--sim) connects over plain MQTT; it needs MQTT_PORT\n')
  process.exit(2)
}
if (config.MQTT_AUTH === 'off') {
  process.stderr.write(
    '\n*** MQTT_AUTH=off: conformance-test profile. Anonymous MQTT on loopback, nothing ingested. Never use this in production. ***\n\n',
  )
}
const log = pino({ level: config.LOG_LEVEL })
const dataDir = resolve(config.DATA_DIR)

// Each closer gets the shutdown deadline (epoch ms); they run in reverse order of start.
const closers: ((deadline: number) => Promise<void>)[] = []
let influxUrl = config.INFLUX_URL
if (!influxUrl) {
  const influxd = await startInfluxd({ dir: join(dataDir, 'influxdb'), keep: true, log: log.child({ module: 'influxd' }) })
  closers.unshift(() => influxd.kill())
  influxUrl = influxd.url
  log.info({ url: influxUrl }, 'started a private influxd (set INFLUX_URL to use your own)')
}

const service = await createService({ ...config, DATA_DIR: dataDir, INFLUX_URL: influxUrl }, log, resolve('dashboards/web/dist'))
if (config.MQTT_TLS_CERT) {
  // Certificate renewal: new connections get the new certificate, connected devices stay connected.
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading the MQTT TLS certificate and key')
    service.reloadTls()
  })
}
await service.start()
closers.unshift((deadline) => service.close(deadline))

if (args.sim) {
  const specs = fleetSpecs({ bin: Number(args.bins), boiler: Number(args.boilers), meter: Number(args.meters) }, 1)
  const provision: Provisioner = async (spec) => {
    const r = await service.registry.devices.provision(spec)
    return r.ok ? { secret: r.secret } : 'exists'
  }
  const mqttUrl = `mqtt://127.0.0.1:${service.broker.port}`
  const devices = await provisionFleet(specs, provision, join(dataDir, 'sim-credentials.json'))
  const fleet = createFleet({ url: mqttUrl, devices, speed: Number(args.speed), seed: 1 })
  await fleet.start()
  closers.unshift(() => fleet.close())
  log.info({ devices: devices.length, speed: Number(args.speed) }, 'simulated fleet running')
  if (!args['no-first-look']) {
    const firstLook = await startFirstLook({
      url: mqttUrl,
      provision,
      devices: service.registry.devices,
      areas: service.registry.areas,
      rounds: service.registry.rounds,
      file: join(dataDir, 'first-look.json'),
      maxAgeMs: config.TIME_LATE_S * 1000,
      log: log.child({ module: 'first-look' }),
    })
    closers.unshift(() => firstLook.close())
  }
}

const { broker } = service
const mqttUrls = [
  config.MQTT_PORT !== null ? `  MQTT:      mqtt://127.0.0.1:${broker.port}\n` : '',
  broker.tlsPort !== null ? `  MQTT TLS:  mqtts://127.0.0.1:${broker.tlsPort}\n` : '',
  broker.wssPort !== null ? `  MQTT WSS:  wss://127.0.0.1:${broker.wssPort}\n` : '',
]
// One write, after every await: a reader that sees the first line of the banner sees all of it.
const nobodyYet = (await service.registry.people.count()) === 0
const banner = [
  `\nsmartplace is running\n  dashboard: ${service.httpUrl}/\n  API docs:  ${service.httpUrl}/docs\n${mqttUrls.join('')}`,
  service.createdAdminToken
    ? `  admin token (shown once, keep it safe): ${service.createdAdminToken}\n`
    : !config.ADMIN_TOKEN
      ? '  admin token: the one printed at the first start (lost it? start with ADMIN_TOKEN=<a new one, 32+ characters> to replace it)\n'
      : '',
  nobodyYet
    ? '  sign in: nobody can sign in yet. Create the first administrator (prints a one-time password):\n' +
      '           npm run people -- create-admin --email you@council.gov.uk --name "Your Name"\n'
    : '',
  '\n',
]
process.stdout.write(banner.join(''))

let closing = false
const shutdown = async (signal: string) => {
  if (closing) {
    // A second signal means "now". Safe: acknowledged readings are already on disk in the spool,
    // its files are append-only, and the checkpoint is replaced atomically.
    process.exit(1)
  }
  closing = true
  log.info({ signal }, 'shutting down')
  const timer = setTimeout(() => {
    log.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out')
    process.exit(1)
  }, config.SHUTDOWN_TIMEOUT_MS)
  // Leave a margin for closing the store and the private influxd after the drain.
  const deadline = Date.now() + config.SHUTDOWN_TIMEOUT_MS - Math.min(1_000, config.SHUTDOWN_TIMEOUT_MS / 4)
  for (const close of closers) await close(deadline).catch((e: Error) => log.error({ err: e.message }, 'close failed'))
  clearTimeout(timer)
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
