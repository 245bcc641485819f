import { parentPort, workerData } from 'node:worker_threads'
import { pino } from 'pino'
import { FencedError } from '../store/reader-fences.ts'
import { openRegistry } from '../store/registry.ts'
import { connectionsFor, createOutbox, OUTBOX_FENCE } from './outbox.ts'
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
  databasePasswordFile: data.store.databasePasswordFile,
  serverKeyFile: data.store.serverKeyFile,
  createAdminToken: false,
  // Fenced (cluster mode), an attempt holds its connection while it sends: one for each that may be in flight, and some to spare.
  poolMax: connectionsFor(data.config),
  onPoolError: (e) => log.error({ err: e.message }, 'database connection lost; it is reopened on the next query'),
})
const outbox = createOutbox({ registry, bus, log, config: data.config })
let closing = false

port.on('message', async (m: ToOutbox) => {
  if (m.type === 'poke') for (const p of pokes) p()
  else if (m.type === 'wake') outbox.wake()
  else if (m.type === 'close') {
    closing = true
    // Attempts get until a little before the deadline, so the store is closed within it.
    await outbox.close(m.deadline - 200)
    await registry.close()
    port.postMessage({ type: 'closed' })
    // In a worker this ends the thread only, whatever timers or sockets are left.
    process.exit(0)
  }
})
/**
 * Cluster mode: the fence first. Claiming it waits until the former holder's attempts in flight have
 * ended and been stored (store/reader-fences.ts). Refused, a newer holder has it and this thread
 * waits idle to be closed; any other failure (the store unreachable) ends the thread, which is
 * started again after a pause (thread.ts).
 */
let fenced = true
if (data.config.fence !== undefined) {
  fenced = await registry.fences.claim(OUTBOX_FENCE, data.config.fence).then(
    () => true,
    (e: Error) => {
      if (!(e instanceof FencedError)) throw e
      log.warn({ err: e.message }, 'the outbox is run by a newer holder; this thread sends nothing')
      port.postMessage({ type: 'refused', reason: e.message })
      return false
    },
  )
}
if (fenced && !closing) {
  outbox.start()
  log.info('outbox thread started')
}
port.postMessage({ type: 'started' })
