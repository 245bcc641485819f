import { describe, expect, it } from 'vitest'
import { createHasher } from '../../registry/credentials.ts'
import { createDeviceStore } from '../../store/device-store.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

// A device whose session moves to another connection (another node in cluster mode, or a quick reconnect)
// is marked online by the new connection; the old one's disconnect, however late it lands, leaves it online.
describe.each(STORE_ADAPTERS)('device presence on %s', (_name, open) => {
  const s = freshStore(open, 'sp-presence-')

  it('lets only the connection that marked a device online mark it offline', async () => {
    const devices = createDeviceStore(s.store.db, createHasher(Buffer.alloc(32, 7)))
    const made = await devices.provision({ id: 'bin-1', type: 'bin', name: 'Bin 1', site: 'leeds' })
    expect(made.ok).toBe(true)
    const t0 = new Date('2026-12-01T10:00:00Z')
    const t1 = new Date('2026-12-01T10:00:05Z')
    await devices.setPresence('bin-1', 'online', t0)
    await devices.setPresence('bin-1', 'online', t1)
    // The first connection ends after the second began: too late to say anything.
    await devices.setPresence('bin-1', 'offline', new Date('2026-12-01T10:00:06Z'), t0)
    expect((await devices.get('bin-1'))?.presence).toBe('online')
    // The second ends: offline.
    await devices.setPresence('bin-1', 'offline', new Date('2026-12-01T10:00:09Z'), t1)
    expect((await devices.get('bin-1'))?.presence).toBe('offline')
  })
})
