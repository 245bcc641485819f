import { EventEmitter } from 'node:events'
import type { LiveBus } from '#devices'

export function createLiveBus(): LiveBus {
  const ee = new EventEmitter()
  ee.setMaxListeners(100)
  return {
    emit: (event, ...args) => ee.emit(event, ...args),
    on(event, listener) {
      ee.on(event, listener)
      return () => ee.off(event, listener)
    },
  }
}
