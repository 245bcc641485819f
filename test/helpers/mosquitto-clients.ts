import { execFile, spawn } from 'node:child_process'

/** Debian's mosquitto_pub and mosquitto_sub (package mosquitto-clients), as a device maker would test with. */

export interface MosquittoTls {
  host: string
  port: number
  cafile: string
  id: string
  secret: string
}

const common = (o: MosquittoTls) => ['-h', o.host, '-p', String(o.port), '--cafile', o.cafile, '-i', o.id, '-u', o.id, '-P', o.secret]

/** One QoS 1 publish; resolves with the exit code and everything printed (never rejects). */
export function mosquittoPub(o: MosquittoTls, topic: string, message: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('mosquitto_pub', [...common(o), '-q', '1', '-t', topic, '-m', message], { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
      resolve({ code, out: stdout + stderr })
    })
  })
}

/** A long-running subscriber with protocol debug output, to watch one connection over time. */
export function mosquittoSub(o: MosquittoTls, topic: string, keepaliveS: number) {
  // Line-buffered: into a pipe, mosquitto_sub's debug lines would otherwise wait in its stdio buffer.
  const args = ['-oL', 'mosquitto_sub', ...common(o), '-q', '1', '-t', topic, '-k', String(keepaliveS), '-d']
  const child = spawn('stdbuf', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const append = (b: Buffer) => {
    out += b.toString()
  }
  child.stdout.on('data', append)
  child.stderr.on('data', append)
  return {
    child,
    output: () => out,
    stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
    },
  }
}
