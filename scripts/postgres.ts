import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import pg from 'pg'
import { freePort } from './free-port.ts'

/** A private PostgreSQL on loopback (Debian's `postgresql`), for tests and for `npm start` without DATABASE_URL. */
export interface PrivatePostgres {
  /** Superuser URL of the `postgres` database, e.g. postgres://postgres@127.0.0.1:5433/postgres */
  url: string
  port: number
  dir: string
  stop(): Promise<void>
}

const isRoot = process.getuid?.() === 0
// Marks the temp dirs we create, so a later run can reap the ones whose owner died without touching anyone else's.
const OWNER_FILE = 'smartplace-owner.pid'

/** initdb and pg_ctl are not on PATH on Debian; the newest /usr/lib/postgresql/<v>/bin wins. */
export function findPgBin(): string {
  const fromEnv = process.env.PG_BIN
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : []
  versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  if (versions.length) return join(root, versions.at(-1)!, 'bin')
  const onPath = (process.env.PATH ?? '').split(delimiter).find((d) => d && existsSync(join(d, 'initdb')))
  if (onPath) return onPath
  throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found. Install them with: sudo apt-get install -y postgresql')
}

/** Runs a PostgreSQL binary as the `postgres` user when we are root: initdb, pg_ctl and postgres all refuse root. */
function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]
  return new Promise((res, rej) => {
    // cwd matters as root: runuser keeps ours, and postgres cannot enter /root.
    const c = spawn(file, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    c.stdout.on('data', (b: Buffer) => {
      out = (out + b.toString()).slice(-4000)
    })
    c.stderr.on('data', (b: Buffer) => {
      out = (out + b.toString()).slice(-4000)
    })
    c.once('error', (e) => rej(new Error(`cannot run ${file}: ${e.message}`)))
    // 'exit', not 'close': a started postmaster could otherwise hold our pipes open.
    c.once('exit', (code) => (code === 0 ? res(out) : rej(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${out}`))))
  })
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A postmaster left behind by a crashed run of the same data dir would hold the lock file and the shared memory. */
async function stopStale(bin: string, dir: string): Promise<void> {
  const data = join(dir, 'data')
  const pidFile = join(data, 'postmaster.pid')
  if (!existsSync(pidFile)) return
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
  if (!pid || !alive(pid)) return // postgres itself ignores a pid file whose process is gone
  await run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '10', 'stop'], dir).catch(() => {
    process.kill(pid, 'SIGKILL')
  })
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50))
}

/** Temp dirs whose creating process is gone (a killed test run): stop their server and delete them. */
async function reapOrphans(bin: string, parent: string): Promise<void> {
  for (const name of readdirSync(parent).filter((n) => n.startsWith('pgtest.'))) {
    // Another user's dirs are unreadable to us; existsSync then says false and we skip them.
    const dir = join(parent, name)
    const ownerFile = join(dir, OWNER_FILE)
    const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8')) : 0
    if (!owner || alive(owner)) continue
    await stopStale(bin, dir).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
}

function ensureTraversable(dir: string, pgUid: number): void {
  // initdb's "Permission denied" names the data dir, not the parent that blocks it; name the parent.
  for (let d = resolve(dir, '..'); d !== '/'; d = resolve(d, '..')) {
    const st = statSync(d)
    if (!(st.mode & 0o001) && !(st.uid === pgUid && st.mode & 0o100)) throw new Error(`${d} must be traversable (o+x) by the postgres user`)
  }
}

/**
 * Starts PostgreSQL on 127.0.0.1 and a free port, trusting loopback connections.
 * Without `dir` the cluster lives in a fresh /tmp/pgtest.XXXXXX, runs with fsync off
 * and is deleted by stop(); with `dir` its data is kept and reused, with fsync on.
 */
export async function startPostgres(opts: { dir?: string; fsync?: boolean } = {}): Promise<PrivatePostgres> {
  const bin = findPgBin()
  const temp = opts.dir === undefined
  const fsync = opts.fsync ?? !temp
  // Not os.tmpdir(): as root that may be a 0700 dir the postgres user cannot cross.
  const parent = isRoot ? '/tmp' : tmpdir()
  if (temp) await reapOrphans(bin, parent).catch(() => {})
  const dir = temp ? mkdtempSync(join(parent, 'pgtest.')) : resolve(opts.dir!)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (temp) writeFileSync(join(dir, OWNER_FILE), String(process.pid))
  if (isRoot) {
    const { uid, gid } = postgresUser()
    ensureTraversable(dir, uid)
    chownSync(dir, uid, gid)
  }
  const data = join(dir, 'data')
  // A Unix socket path is limited to 107 bytes; PostgreSQL's own error for that is cryptic.
  if (Buffer.byteLength(join(dir, '.s.PGSQL.65535')) > 107) throw new Error(`${dir} is too long for PostgreSQL's socket; use a shorter dir`)

  let port = 0
  try {
    await stopStale(bin, dir)
    if (!existsSync(join(data, 'PG_VERSION'))) {
      const args = ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C']
      await run(join(bin, 'initdb'), fsync ? args : [...args, '--no-sync'], dir)
    }
    for (let attempt = 1; ; attempt++) {
      port = await freePort()
      // pg_ctl hands -o to a shell, hence the quotes around the dir.
      const settings = [`-p ${port}`, `-k "${dir}"`, '-c listen_addresses=127.0.0.1']
      if (!fsync) settings.push('-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off')
      try {
        await run(
          join(bin, 'pg_ctl'),
          ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', settings.join(' '), 'start'],
          dir,
        )
        break
      } catch (e) {
        // Another process may take the free port between our probe and the server's bind.
        if (attempt >= 3) throw new Error(`${(e as Error).message}\n${tail(join(dir, 'server.log'))}`)
      }
    }
  } catch (e) {
    // pg_ctl's -t timeout can leave a server still starting up.
    await stopStale(bin, dir).catch(() => {})
    if (temp) rmSync(dir, { recursive: true, force: true })
    throw e
  }

  let stopped = false
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async stop() {
      if (stopped) return
      stopped = true
      await run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop'], dir).catch(() => stopStale(bin, dir))
      if (temp) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A fresh, empty database on the server of `adminUrl`, so parallel tests never share tables. */
export async function createDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    try {
      await client.query(statement)
    } finally {
      await client.end()
    }
  }
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-2000) : ''
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))
  if (!line) throw new Error('no "postgres" user: install Debian postgresql (it creates one) or run as a non-root user')
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}
