import { spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmdirSync, statfsSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A small tmpfs of its own, so that a test can fill a real filesystem to the last byte. */
export interface Tmpfs {
  dir: string
  /** Bytes an unprivileged writer may still use, as the service's own statfs sees them. */
  free(): number
  /** Unmounts (lazily if still busy) and removes the mount point; safe to call twice. */
  unmount(): void
}

const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return r.status === 0 ? null : (r.error?.message ?? r.stderr.trim()) || `${cmd} exited with ${r.status}`
}

/** Mounts a tmpfs of `sizeMiB`; throws with the reason when it cannot (not root, no mount(8), a container without CAP_SYS_ADMIN). */
export function mountTmpfs(sizeMiB: number, prefix = 'sp-tmpfs-'): Tmpfs {
  if (process.platform !== 'linux') throw new Error(`tmpfs needs Linux (this is ${process.platform})`)
  if (process.getuid?.() !== 0) throw new Error(`mounting a tmpfs needs root (uid is ${process.getuid?.()})`)
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const err = run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', dir])
  if (err) {
    rmdirSync(dir)
    throw new Error(`mount -t tmpfs failed: ${err}`)
  }
  let mounted = true
  return {
    dir,
    free() {
      const s = statfsSync(dir)
      return s.bavail * s.bsize
    },
    unmount() {
      if (!mounted) return
      if (run('umount', [dir])) run('umount', ['-l', dir])
      mounted = false
      try {
        rmdirSync(dir)
      } catch {}
    },
  }
}

/**
 * Why a tmpfs cannot be mounted here, or null when it can: tried for real (mount and
 * unmount a tiny one) so that a skip names the actual reason. Synchronous, for `it.skipIf`.
 */
export function tmpfsUnavailable(): string | null {
  try {
    mountTmpfs(1, 'sp-tmpfs-probe-').unmount()
    return null
  } catch (e) {
    return (e as Error).message
  }
}

/**
 * Writes zeros to `path` until the filesystem refuses with ENOSPC (large writes first, then
 * single pages, so no byte is left). Returns the bytes written; the file stays open for no one.
 */
export function fillUntilFull(path: string): number {
  const fd = openSync(path, 'a')
  let written = 0
  try {
    for (const chunk of [Buffer.alloc(1024 * 1024), Buffer.alloc(4096), Buffer.alloc(512)]) {
      for (;;) {
        try {
          const n = writeSync(fd, chunk)
          written += n
          if (n === 0) break
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break
          throw e
        }
      }
    }
  } finally {
    closeSync(fd)
  }
  return written
}

/** Writes `bytes` of zeros to a new file at `path` (throws on ENOSPC). */
export function writeBallast(path: string, bytes: number): void {
  const fd = openSync(path, 'wx')
  try {
    const chunk = Buffer.alloc(1024 * 1024)
    let left = bytes
    while (left > 0) left -= writeSync(fd, chunk, 0, Math.min(left, chunk.length))
  } finally {
    closeSync(fd)
  }
}
