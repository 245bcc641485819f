import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../scripts/free-port.ts'
import { type PrivateInfluxd, startInfluxd } from '../../scripts/influxd.ts'
import { type ChildService, spawnService } from './child-service.ts'

/**
 * A private influxd (so a test may stop it) and a data dir that service processes
 * share across restarts. `close` stops whatever is still running and removes it all.
 */
export interface PrivateStack {
  influxd: PrivateInfluxd
  token: string
  /** Starts `service/main.ts` on this stack's data dir and free ports. */
  spawn(db: string, env?: Record<string, string>): Promise<ChildService>
  close(): Promise<void>
}

export async function startPrivateStack(name: string): Promise<PrivateStack> {
  const influxd = await startInfluxd()
  const dataDir = mkdtempSync(join(tmpdir(), `sp-${name}-`))
  const token = randomBytes(32).toString('base64url')
  const started: ChildService[] = []
  return {
    influxd,
    token,
    async spawn(db, env = {}) {
      const svc = await spawnService({
        dataDir,
        influxUrl: influxd.url,
        db,
        token,
        httpPort: await freePort(),
        mqttPort: await freePort(),
        env,
      })
      started.push(svc)
      return svc
    },
    async close() {
      for (const svc of started) if (svc.child.exitCode === null) svc.child.kill('SIGKILL')
      await influxd.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
