import type { NatsConnection } from 'nats'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { LogRecord } from '#devices'
import { createStreamReader, type StreamReader } from '../../log/stream-reader.ts'

/**
 * A JetStream stand-in with just what the reader asks of it: its first consumer's fetch never ends
 * (what CI saw twice after a server was killed), every consumer made after it delivers the stream.
 */
function fakeNats(records: LogRecord[]) {
  let made = 0
  let fetches = 0
  const consumerFor = (generation: number) => {
    let delivered = 0
    return {
      async info() {
        return { delivered: { consumer_seq: delivered } }
      },
      async fetch() {
        fetches++
        const stuck = generation === 1
        let stop: (e?: Error) => void = () => {}
        const stopped = new Promise<Error | undefined>((r) => (stop = r))
        const batch = stuck ? [] : records.slice(delivered)
        const it = {
          stop: (e?: Error) => stop(e),
          async *[Symbol.asyncIterator]() {
            if (stuck) {
              const e = await stopped
              if (e) throw e
              return
            }
            for (const r of batch) {
              delivered++
              yield {
                seq: delivered,
                info: { deliverySequence: delivered, pending: records.length - delivered },
                json: () => r,
                ack() {},
              }
            }
            // An empty fetch waits out a short expiry.
            if (batch.length === 0) await new Promise((r) => setTimeout(r, 50))
          },
        }
        return it
      },
    }
  }
  let current = consumerFor(0)
  const nc = {
    async jetstreamManager() {
      return {
        consumers: {
          async *list() {},
          async delete() {
            return true
          },
          async add() {
            current = consumerFor(++made)
          },
        },
      }
    },
    jetstream() {
      return { consumers: { get: async () => current } }
    },
  }
  return { nc: nc as unknown as NatsConnection, made: () => made, fetches: () => fetches }
}

const reading = (n: number): LogRecord => ({ kind: 'reading', deviceId: `bin-${n}`, receivedAt: n }) as unknown as LogRecord

describe('stream reader watchdog', () => {
  let reader: StreamReader | null = null
  afterEach(async () => {
    await reader?.abandon()
    reader = null
  })

  const start = (fetchStallMs: number) => {
    const nats = fakeNats([reading(1), reading(2), reading(3)])
    const handled: LogRecord[] = []
    reader = createStreamReader({
      name: 'influxdb@p0',
      partition: 0,
      epoch: 1,
      stream: 'SP_LOG',
      nc: nats.nc,
      handler: {
        load: async () => null,
        handle: async (b) => {
          handled.push(...b.records)
          return undefined
        },
      },
      logger: pino({ level: 'silent' }),
      maxRecords: 100,
      idleMs: 20,
      watch: { everyMs: 50, fetchStallMs, handleStallMs: 60_000 },
    })
    reader.start()
    return { handled, nats }
  }

  it('stops a fetch that outlived its expiry and reads on from its position through a new consumer', async () => {
    const { handled, nats } = start(300)
    const until = Date.now() + 5_000
    while (handled.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
    expect(handled.map((r) => (r as { deviceId: string }).deviceId)).toEqual(['bin-1', 'bin-2', 'bin-3'])
    expect(reader!.stalls()).toBe(1)
    expect(nats.made()).toBe(2)
    expect(reader!.status().position).toEqual({ segment: 0, offset: 4 })
  })

  it('without the watchdog stepping in, the same reader reads nothing', async () => {
    const { handled } = start(60_000)
    await new Promise((r) => setTimeout(r, 1_500))
    expect(handled).toEqual([])
    expect(reader!.stalls()).toBe(0)
  })
})
