import type { Logger } from 'pino'
import type { LiveBus, ServerToClientEvents } from '#devices'

type Listener = (...args: unknown[]) => void
interface Entry {
  listener: Listener
  owner: string | undefined
}

/**
 * A typed in-process bus whose listeners are isolated: a listener that throws is
 * logged and counted, and the emitter (a log reader, a request) and the other
 * listeners carry on. A plain EventEmitter would throw into the emitter instead.
 */
export function createLiveBus(log: Logger, onListenerError: (event: string) => void = () => {}): LiveBus {
  const listeners = new Map<string, Entry[]>()
  return {
    emit(event, ...args) {
      const list = listeners.get(event)
      if (!list) return
      for (const e of list) {
        try {
          e.listener(...args)
        } catch (err) {
          onListenerError(event)
          log.error({ event, owner: e.owner, err: (err as Error)?.message ?? String(err) }, 'bus listener failed')
        }
      }
    },
    on<K extends keyof ServerToClientEvents>(event: K, listener: ServerToClientEvents[K], owner?: string) {
      const entry: Entry = { listener: listener as Listener, owner }
      // Copy on write: a listener removed or added during an emit does not disturb that emit.
      listeners.set(event, [...(listeners.get(event) ?? []), entry])
      return () =>
        listeners.set(
          event,
          (listeners.get(event) ?? []).filter((e) => e !== entry),
        )
    },
    removeOwner(owner) {
      for (const [event, list] of listeners)
        listeners.set(
          event,
          list.filter((e) => e.owner !== owner),
        )
    },
  }
}
