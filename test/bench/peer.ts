import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { freePort } from '../../scripts/free-port.ts'

export const MOSQUITTO_BIN = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find(existsSync) ?? 'mosquitto'

export interface Peer {
  mqttUrl: string
  pids: number[]
  stop(): Promise<void>
}

const waitForLine = (c: ChildProcess, text: string, what: string) =>
  new Promise<void>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), 15_000)
    const on = (b: Buffer) => {
      out += b.toString()
      if (out.includes(text)) {
        clearTimeout(timer)
        resolve()
      }
    }
    c.stdout?.on('data', on)
    c.stderr?.on('data', on)
    c.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${out}`)))
  })

/** Debian's Mosquitto on a free loopback port, anonymous (loopback only), no persistence. */
export async function startMosquitto(): Promise<{ mqttUrl: string; pid: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sp-mosquitto-'))
  const port = await freePort()
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stdout\nlog_type error\nlog_type notice\nmax_queued_messages 100000\n`,
  )
  // Output ignored: an unread pipe would fill with connection notices and stall the broker.
  const mosquitto = spawn(MOSQUITTO_BIN, ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' })
  const mqttUrl = `mqtt://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    const ok = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0, connectTimeout: 500 }).then(
      (c) => c.endAsync().then(() => true),
      () => false,
    )
    if (ok) break
    if (mosquitto.exitCode !== null) throw new Error(`mosquitto exited with ${mosquitto.exitCode}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    mqttUrl,
    pid: mosquitto.pid!,
    async stop() {
      if (mosquitto.exitCode === null) {
        const exited = new Promise((r) => mosquitto.once('exit', r))
        mosquitto.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Debian's Mosquitto, private on loopback (anonymous is allowed only because it
 * listens on 127.0.0.1 for this measurement), plus the minimal subscriber.
 */
export async function startPeer(influxUrl: string, db: string): Promise<Peer> {
  await fetch(`${influxUrl}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE "${db}"` }) })
  const mosquitto = await startMosquitto()
  const mqttUrl = mosquitto.mqttUrl
  const sub = spawn(process.execPath, ['--import', 'tsx', 'test/bench/peer-subscriber.ts', mqttUrl, influxUrl, db], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  try {
    await waitForLine(sub, 'peer subscriber ready', 'peer subscriber')
  } catch (e) {
    sub.kill('SIGKILL')
    await mosquitto.stop()
    throw e
  }
  return {
    mqttUrl,
    pids: [mosquitto.pid, sub.pid!],
    async stop() {
      if (sub.exitCode === null) {
        const exited = new Promise((r) => sub.once('exit', r))
        sub.kill('SIGTERM')
        await exited
      }
      await mosquitto.stop()
    },
  }
}
