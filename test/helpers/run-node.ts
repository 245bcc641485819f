import { spawn } from 'node:child_process'

/** Runs a TypeScript entry point as its own process and collects what it prints. */
export async function runNode(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString()
  })
  child.stderr.on('data', (b: Buffer) => {
    out += b.toString()
  })
  const code = await new Promise<number | null>((r) => child.once('exit', r))
  return { code, out }
}
