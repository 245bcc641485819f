// A worker thread runs TypeScript as the service does: tsx's loader is registered in the thread
// itself (a worker's execArgv cannot be relied on to carry `--import tsx` into it).
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.entry)
