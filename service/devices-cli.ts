import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { DeviceInput } from '#devices'
import { openRegistry } from '../store/registry.ts'
import { parseConfig } from './config.ts'

// Provisioning from the command line, against the same registry the service uses:
//   npm run devices -- add --id bin-0001 --type bin --name "Market St" --site city-centre [--lat 52.6 --lon -1.1 --uprn 1000...]
//   npm run devices -- list
//   npm run devices -- revoke --id bin-0001   (a running service sees it in the registry and drops the connection within ~2 s)
const [command, ...rest] = process.argv.slice(2)
const { values } = parseArgs({
  args: rest,
  options: {
    id: { type: 'string' },
    type: { type: 'string' },
    name: { type: 'string' },
    site: { type: 'string' },
    lat: { type: 'string' },
    lon: { type: 'string' },
    uprn: { type: 'string' },
    interval: { type: 'string' },
  },
})

const parsed = parseConfig(process.env)
if (!parsed.ok) {
  process.stderr.write(`CONFIG_INVALID:\n${parsed.errors.join('\n')}\n`)
  process.exit(2)
}
// The CLI never creates the admin token: one it made could not be shown by the service's first start.
const registry = await openRegistry({
  dataDir: resolve(parsed.config.DATA_DIR),
  databaseUrl: parsed.config.DATABASE_URL,
  databasePasswordFile: parsed.config.DATABASE_PASSWORD_FILE,
  serverKeyFile: parsed.config.SERVER_KEY_FILE,
  createAdminToken: false,
})
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v))

switch (command) {
  case 'add': {
    const input = DeviceInput.safeParse({
      id: values.id,
      type: values.type,
      name: values.name ?? values.id,
      site: values.site,
      latitude: num(values.lat) ?? null,
      longitude: num(values.lon) ?? null,
      uprn: values.uprn ?? null,
      intervalS: num(values.interval),
    })
    if (!input.success) {
      process.stderr.write(`BAD_REQUEST:\n${input.error.issues.map((i) => `  --${String(i.path[0])}: ${i.message}`).join('\n')}\n`)
      process.exit(2)
    }
    const r = await registry.devices.provision(input.data)
    if (!r.ok) {
      process.stderr.write(`CONFLICT: device ${input.data.id} already exists (ids of revoked devices stay reserved)\n`)
      process.exit(1)
    }
    process.stdout.write(
      `${JSON.stringify({ ...r.device, secret: r.secret }, null, 2)}\nThe secret is shown once; store it on the device now.\n`,
    )
    break
  }
  case 'list':
    for (const d of await registry.devices.list()) process.stdout.write(`${d.id}\t${d.type}\t${d.site}\t${d.presence}\n`)
    break
  case 'revoke':
    if (!values.id || !(await registry.devices.revoke(values.id))) {
      process.stderr.write(`NOT_FOUND: no device ${values.id ?? '(give --id)'}\n`)
      process.exit(1)
    }
    process.stdout.write(`revoked ${values.id}\n`)
    break
  default:
    process.stderr.write(
      'usage: npm run devices -- add|list|revoke [--id ID --type bin|boiler|meter --name NAME --site SITE --lat N --lon N --uprn N]\n',
    )
    process.exit(2)
}
await registry.close()
