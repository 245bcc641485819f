import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface BaselineTree {
  ref: string
  commit: string
  /** The exported tree: `node --import tsx service/main.ts` runs from here. */
  root: string
  /** The commit's lockfile differs from this checkout's, whose node_modules it runs with. */
  lockfileDiffers: boolean
  remove(): void
}

const git = (cwd: string, args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()

/**
 * The tree of `ref` exported into a temp dir, with this checkout's node_modules linked in.
 * `git archive` rather than `git worktree`: it writes nothing into the repository, which
 * others use while the bench runs, and an interrupted run leaves only a temp dir.
 */
export function exportBaseline(repo: string, ref: string): BaselineTree {
  let commit: string
  try {
    commit = git(repo, ['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`])
  } catch {
    throw new Error(`--baseline ${ref}: not a commit in ${repo}`)
  }
  const root = mkdtempSync(join(tmpdir(), `sp-baseline-${commit.slice(0, 7)}-`))
  const remove = () => rmSync(root, { recursive: true, force: true })
  try {
    const tar = join(root, '.export.tar')
    execFileSync('git', ['archive', '--format=tar', '--output', tar, commit], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] })
    execFileSync('tar', ['-xf', tar, '-C', root], { stdio: ['ignore', 'ignore', 'pipe'] })
    rmSync(tar)
    if (!existsSync(join(root, 'service', 'main.ts'))) throw new Error(`--baseline ${ref}: ${commit.slice(0, 7)} has no service/main.ts`)
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir')
  } catch (e) {
    remove()
    throw e
  }
  const lock = (dir: string) => (existsSync(join(dir, 'package-lock.json')) ? readFileSync(join(dir, 'package-lock.json'), 'utf8') : '')
  return { ref, commit, root, lockfileDiffers: lock(root) !== lock(repo), remove }
}

/** This checkout's commit, and whether the tree has changes on top of it (for the report's labels). */
export function describeCheckout(repo: string): { commit: string | null; dirty: boolean } {
  try {
    return { commit: git(repo, ['rev-parse', 'HEAD']), dirty: git(repo, ['status', '--porcelain', '--untracked-files=no']) !== '' }
  } catch {
    return { commit: null, dirty: false }
  }
}
