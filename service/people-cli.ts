import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Email, PersonName } from '#devices'
import { hashPassword } from '../dashboards/access/passwords.ts'
import { openRegistry } from '../store/registry.ts'
import { parseConfig } from './config.ts'

// The first administrator, from the command line, against the same registry the service uses:
//   npm run people -- create-admin --email it@council.example --name "Sam Jones"
// Prints a one-time password; signing in with it allows nothing but choosing a new one.
const [command, ...rest] = process.argv.slice(2)
const { values } = parseArgs({ args: rest, options: { email: { type: 'string' }, name: { type: 'string' } } })

function fail(code: number, text: string): never {
  process.stderr.write(`${text}\n`)
  process.exit(code)
}

if (command !== 'create-admin') fail(2, 'usage: npm run people -- create-admin --email EMAIL --name "FULL NAME"')
const email = Email.safeParse(values.email ?? '')
const name = PersonName.safeParse(values.name ?? '')
if (!email.success || !name.success) {
  fail(2, `BAD_REQUEST:${email.success ? '' : '\n  --email: an email address'}${name.success ? '' : '\n  --name: 1 to 120 characters'}`)
}

const parsed = parseConfig(process.env)
if (!parsed.ok) fail(2, `CONFIG_INVALID:\n${parsed.errors.join('\n')}`)
// The CLI never creates the admin token: one it made could not be shown by the service's first start.
const registry = await openRegistry({
  dataDir: resolve(parsed.config.DATA_DIR),
  databaseUrl: parsed.config.DATABASE_URL,
  databasePasswordFile: parsed.config.DATABASE_PASSWORD_FILE,
  serverKeyFile: parsed.config.SERVER_KEY_FILE,
  createAdminToken: false,
})
try {
  if (await registry.people.byEmail(email.data)) fail(1, 'CONFLICT: someone with this email already exists')
  // 120 random bits: typed once, then replaced at first sign-in.
  const password = randomBytes(15).toString('base64url')
  const person = await registry.people.create({
    email: email.data,
    name: name.data,
    grants: [{ role: 'admin', areas: null }],
    status: 'active',
    passwordHash: await hashPassword(password),
    mustChangePassword: true,
    createdBy: 'cli',
  })
  await registry.audit.append({ actor: 'cli', action: 'first-admin-created', target: `person:${person.id}`, detail: { via: 'people-cli' } })
  process.stdout.write(
    `Created administrator person:${person.id}\nOne-time password: ${password}\nIt is shown once and must be changed at first sign-in.\n`,
  )
} finally {
  await registry.close()
}
