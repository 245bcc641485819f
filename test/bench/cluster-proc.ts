import { readdirSync, readFileSync } from 'node:fs'

const CLK_TCK = 100

interface Stat {
  pid: number
  ppid: number
  /** utime + stime + cutime + cstime, s: its own CPU and that of the children it has reaped. */
  cpu: number
}

function readStat(pid: number): Stat | null {
  try {
    // The command name (field 2) may hold spaces and parentheses: the fields after the last ') ' are plain.
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = raw.slice(raw.lastIndexOf(') ') + 2).split(' ')
    // f[0] is field 3 (state): ppid is field 4, utime…cstime are fields 14…17.
    return { pid, ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK }
  } catch {
    return null // gone meanwhile
  }
}

/** Every process on the host (Linux /proc), read at one moment. */
export function processTable(): Stat[] {
  const out: Stat[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const s = readStat(Number(name))
    if (s) out.push(s)
  }
  return out
}

/**
 * CPU seconds of a process and all its descendants: PostgreSQL's backends, for one, are
 * children of the postmaster that come and go. Each process's reaped children are in its own
 * figure, so a child that exits within the window moves its CPU to its parent, not out of the sum.
 */
export function treeCpuSeconds(roots: number[], table: Stat[] = processTable()): number {
  const children = new Map<number, Stat[]>()
  const byPid = new Map<number, Stat>()
  for (const s of table) {
    byPid.set(s.pid, s)
    const list = children.get(s.ppid)
    if (list) list.push(s)
    else children.set(s.ppid, [s])
  }
  let sum = 0
  const seen = new Set<number>()
  const stack = [...roots]
  while (stack.length > 0) {
    const pid = stack.pop()!
    if (seen.has(pid)) continue
    seen.add(pid)
    const s = byPid.get(pid)
    if (!s) continue
    sum += s.cpu
    for (const c of children.get(pid) ?? []) stack.push(c.pid)
  }
  return sum
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
  } catch {
    return ''
  }
}

/**
 * Processes this bench started whose command line contains `needle`: the engines' starters in
 * scripts/ do not hand out their pids. Only children of this process count, so that another
 * run's engines on the same host are never measured (or mistaken for ours).
 */
export function childPidsMatching(needle: string): number[] {
  return processTable()
    .filter((s) => s.ppid === process.pid && cmdline(s.pid).includes(needle))
    .map((s) => s.pid)
}

/** The postmaster's pid, from the first line of its data directory's postmaster.pid. */
export function postmasterPid(pgDir: string): number {
  const pid = Number(readFileSync(`${pgDir}/data/postmaster.pid`, 'utf8').split('\n')[0])
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no postmaster pid in ${pgDir}/data/postmaster.pid`)
  return pid
}

/** CPU seconds the whole host has been busy (all cores, /proc/stat: user, nice, system, irq, softirq, steal). */
export function hostBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const [user, nice, system, , , irq, softirq, steal] = f
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLK_TCK
}
