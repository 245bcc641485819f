import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { INFLUXD_BIN, startInfluxd } from '../../scripts/influxd.ts'

// Read here rather than through scripts/influxd.ts, so the test does not trust the code it checks.
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}
const influxdsOn = (conf: string) =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(conf)
      } catch {
        return false
      }
    })
    .map(Number)
    .filter(alive)
// Local rather than from helpers/service.ts, which would load the whole service for nothing.
async function waitFor<T>(fn: () => T | false | null | Promise<T | false | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
const pings = async (url: string) => (await fetch(`${url}/ping`).catch(() => null))?.status === 204

// What `service/main.ts` does with a private influxd, in a process the test may SIGKILL.
const OWNER = `import { startInfluxd } from './scripts/influxd.ts'
const i = await startInfluxd({ dir: process.argv[1], keep: true })
process.stdout.write(\`influxd \${i.pid} \${i.url}\\n\`)
setInterval(() => {}, 60_000)`

describe.skipIf(process.platform !== 'linux')('a private influxd does not outlive its owner (issue: influxd after kill -9)', () => {
  const cleanup: (() => void)[] = []
  afterEach(() => {
    for (const f of cleanup.splice(0)) f()
  })
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'sp-influxd-life-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    return dir
  }
  const killLater = (pid: number) =>
    cleanup.unshift(() => {
      if (alive(pid)) process.kill(pid, 'SIGKILL')
    })

  it('dies within seconds of a SIGKILL of the process that started it, which another start refuses to disturb', async () => {
    const dir = tempDir()
    const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', OWNER, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    killLater(owner.pid!)
    let out = ''
    owner.stdout.on('data', (b: Buffer) => {
      out += b.toString()
    })
    owner.stderr.on('data', (b: Buffer) => {
      out += b.toString()
    })
    const [, pid, url] = await waitFor(() => /influxd (\d+) (\S+)\n/.exec(out), 30_000)
    const influxd = Number(pid)
    killLater(influxd)
    expect(await pings(url!)).toBe(true)
    expect(influxdsOn(join(dir, 'influxdb.conf'))).toEqual([influxd])

    // The owner is alive: a second start on its directory must fail, not kill a running service's database.
    await expect(startInfluxd({ dir, keep: true })).rejects.toThrow(/already runs/)
    expect(alive(influxd)).toBe(true)

    owner.kill('SIGKILL')
    const t0 = Date.now()
    await waitFor(() => !alive(influxd), 5_000)
    expect(Date.now() - t0).toBeLessThan(5_000)
    expect(await pings(url!)).toBe(false)
  })

  it('stops an influxd left behind on the same directory before starting another', async () => {
    const dir = tempDir()
    const conf = join(dir, 'influxdb.conf')
    const first = await startInfluxd({ dir, keep: true })
    const staleUrl = first.url
    await first.kill()

    // An orphan on that config, as a killed `npm start` of an older version left it: its parent is gone.
    const sh = spawnSync('sh', ['-c', `"${INFLUXD_BIN}" -config "${conf}" >/dev/null 2>&1 & echo $!`], { encoding: 'utf8' })
    const stale = Number(sh.stdout.trim())
    killLater(stale)
    await waitFor(() => pings(staleUrl), 30_000)

    const warned: string[] = []
    const second = await startInfluxd({ dir, keep: true, log: { warn: (_obj, msg) => warned.push(msg) } })
    cleanup.unshift(() => void second.kill())
    expect(alive(stale)).toBe(false)
    expect(warned).toEqual(['stopping an influxd left behind on this data directory'])
    expect(influxdsOn(conf)).toEqual([second.pid])
    expect(await pings(second.url)).toBe(true)
    await second.kill()
  })
})
