import type { Device } from '#devices'
import { addressKey } from './address-key.ts'
import type { AuthBrake } from './auth-brake.ts'

export type CheckOutcome =
  | { ok: true; device: Device }
  | { ok: false; why: 'wrong-secret' }
  | { ok: false; why: 'braked' }
  | { ok: false; why: 'store-unavailable'; error: Error }

/**
 * Secrets checked at once for one address. A gateway's burst of reconnecting
 * devices only queues for a moment (a check takes about a millisecond); a burst of
 * guesses cannot all be checked before the first failures have started the brake.
 */
const IN_FLIGHT_PER_ADDRESS = 8

/**
 * Checks a device's secret when the brake allows: waits for the address's turn,
 * refuses unchecked when that is too far off, and holds a refusal back as long as
 * the claimed identity's failures ask (counting the time already waited).
 */
export function createCredentialCheck(
  brake: AuthBrake,
  lookup: (deviceId: string, secret: string) => Promise<Device | null>,
  onBrake: (action: 'delayed' | 'refused') => void,
  now: () => number = Date.now,
) {
  const gates = new Map<string, { active: number; waiting: (() => void)[] }>()
  const enter = (key: string, go: () => void) => {
    let g = gates.get(key)
    if (!g) {
      g = { active: 0, waiting: [] }
      gates.set(key, g)
    }
    if (g.active < IN_FLIGHT_PER_ADDRESS) {
      g.active++
      go()
    } else g.waiting.push(go)
  }
  const leave = (key: string) => {
    const g = gates.get(key)
    if (!g) return
    const next = g.waiting.shift()
    // The slot passes to the next in line; a microtask, so a queue of refusals does not grow the stack.
    if (next) queueMicrotask(next)
    else if (--g.active === 0) gates.delete(key)
  }

  /** `gone`: the client hung up while waiting, so nothing is checked for it. */
  return function check(address: string, deviceId: string, secret: string, gone: () => boolean, answer: (o: CheckOutcome) => void): void {
    const key = addressKey(address)
    const arrived = now()
    enter(key, () => {
      if (gone()) return leave(key)
      const wait = brake.beforeCheck(address, deviceId)
      if (wait < 0) {
        leave(key)
        onBrake('refused')
        return answer({ ok: false, why: 'braked' })
      }
      const run = () => {
        if (gone()) return leave(key)
        lookup(deviceId, secret).then(
          (device) => {
            leave(key)
            if (device) {
              brake.succeeded(address, deviceId)
              return answer({ ok: true, device })
            }
            const hold = brake.failed(address, deviceId) - (now() - arrived)
            if (hold <= 0) return answer({ ok: false, why: 'wrong-secret' })
            onBrake('delayed')
            setTimeout(() => answer({ ok: false, why: 'wrong-secret' }), hold).unref()
          },
          (error: Error) => {
            leave(key)
            answer({ ok: false, why: 'store-unavailable', error })
          },
        )
      }
      if (wait === 0) return run()
      onBrake('delayed')
      setTimeout(run, wait).unref()
    })
  }
}
