import { parentPort, workerData } from 'node:worker_threads'
import { pino } from 'pino'
import { openRegistry } from '../store/registry.ts'
import { createOutbox } from './outbox.ts'
import type { OutboxWorkerData, ToOutbox } from './thread.ts'

/**
 * The outbox's own thread (started by thread.ts): its own connection to the store, its own event
 * loop. Deliveries, their HTTP and their store writes never queue ahead of a device's PUBACK.
 */
const data = workerData as OutboxWorkerData
const port = parentPort!
// Log lines go to the service's logger (its destination and level), not to a second writer on stdout.
const log = pino({ level: data.logLevel }, { write: (line: string) => port.postMessage({ type: 'log', line }) })

const pokes = new Set<() => void>()
const bus = {
  on(_event: string, fn: () => void) {
    pokes.add(fn)
    return () => pokes.delete(fn)
  },
}

const registry = await openRegistry({
  dataDir: data.store.dataDir,
  databaseUrl: data.store.databaseUrl,
  serverKeyFile: data.store.serverKeyFile,
  createAdminToken: false,
  onPoolError: (e) => log.error({ err: e.message }, 'database connection lost; it is reopened on the next query'),
})
const outbox = createOutbox({ registry, bus, log, config: data.config })

port.on('message', async (m: ToOutbox) => {
  if (m.type === 'poke') for (const p of pokes) p()
  else if (m.type === 'wake') outbox.wake()
  else if (m.type === 'close') {
    // Attempts get until a little before the deadline, so the store is closed within it.
    await outbox.close(m.deadline - 200)
    await registry.close()
    port.postMessage({ type: 'closed' })
    // In a worker this ends the thread only, whatever timers or sockets are left.
    process.exit(0)
  }
})
outbox.start()
log.info('outbox thread started')
port.postMessage({ type: 'started' })
