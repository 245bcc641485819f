import { type AdminTokens, initAdminToken } from './admin-token.ts'
import { type AlertRepo, createAlertRepo } from './alert-repo.ts'
import { type AlertStateRepo, type CheckpointRepo, createAlertStateRepo, createCheckpointRepo } from './checkpoint-repo.ts'
import { createHasher, loadOrCreateServerKey } from './credentials.ts'
import { type Db, openDb } from './db.ts'
import { createDeviceRepo, type DeviceRepo } from './device-repo.ts'
import { createQuarantineRepo, type QuarantineRepo } from './quarantine-repo.ts'

export interface Registry {
  devices: DeviceRepo
  alerts: AlertRepo
  quarantine: QuarantineRepo
  admin: AdminTokens
  checkpoints: CheckpointRepo
  alertState: AlertStateRepo
  /** Runs `fn` in one transaction: all its writes land or none do. */
  transaction<T>(fn: () => T): T
  close(): void
}

export function openRegistry(opts: {
  dataDir: string
  adminToken?: string | undefined
  quarantineMax?: number
  quarantineMaxAgeMs?: number
}): Registry {
  const db: Db = openDb(opts.dataDir)
  const hasher = createHasher(loadOrCreateServerKey(opts.dataDir))
  return {
    devices: createDeviceRepo(db, hasher),
    alerts: createAlertRepo(db),
    quarantine: createQuarantineRepo(db, opts.quarantineMax, opts.quarantineMaxAgeMs),
    admin: initAdminToken(db, hasher, opts.adminToken),
    checkpoints: createCheckpointRepo(db),
    alertState: createAlertStateRepo(db),
    transaction: (fn) => db.transaction(fn)(),
    close: () => db.close(),
  }
}
