import { describe, expect, it } from 'vitest'
import { createTargetQueues } from '../../outbox/target-queues.ts'

const e = (id: number, target: string, dueMs = 0) => ({ id, target, dueMs })

describe("the sender's index of pending deliveries", () => {
  it('offers only each target’s head, due ones earliest first, never a busy target’s, up to the limit', () => {
    const q = createTargetQueues()
    q.add([e(1, 'a', 50), e(2, 'b', 10), e(3, 'a', 0), e(4, 'c', 10), e(5, 'd', 500)])
    expect(q.due(100, 10, new Map())).toEqual([2, 4, 1])
    expect(q.due(100, 2, new Map())).toEqual([2, 4])
    expect(q.due(100, 10, new Map([['b', true]]))).toEqual([4, 1])
    expect(q.nextDue(new Map([['b', true]]))).toBe(10)
    expect(
      q.nextDue(
        new Map([
          ['b', 1],
          ['c', 1],
          ['a', 1],
        ]),
      ),
    ).toBe(500)
    expect(q.lastId()).toBe(5)
  })

  it('moves a target to its next delivery when the head is done, waits when rescheduled, and ignores what is not the head', () => {
    const q = createTargetQueues()
    q.add([e(1, 'a'), e(2, 'a'), e(3, 'a')])
    q.done('a', 2)
    q.reschedule('a', 3, 999)
    expect(q.due(0, 10, new Map())).toEqual([1])
    q.reschedule('a', 1, 100)
    expect(q.due(99, 10, new Map())).toEqual([])
    expect(q.nextDue(new Map())).toBe(100)
    q.done('a', 1)
    expect(q.due(0, 10, new Map())).toEqual([2])
    q.done('a', 2)
    q.done('a', 3)
    expect(q.size()).toBe(0)
    expect(q.nextDue(new Map())).toBeNull()
  })

  it('reads only newer ids on add, and a whole read replaces the rest but never moves the last id back', () => {
    const q = createTargetQueues()
    q.add([e(5, 'a'), e(6, 'b')])
    q.add([e(6, 'b'), e(7, 'b')])
    q.done('a', 5)
    expect(q.due(0, 10, new Map())).toEqual([6])
    // A delivery of id 4 committed late (PostgreSQL) is found by the whole read.
    q.replaceAll([e(4, 'c'), e(6, 'b'), e(7, 'b')])
    expect(q.due(0, 10, new Map())).toEqual([4, 6])
    expect(q.lastId()).toBe(7)
  })

  it('keeps a target with a long backlog compact as its head moves on', () => {
    const q = createTargetQueues()
    q.add(Array.from({ length: 5000 }, (_, i) => e(i + 1, 'dead')))
    for (let i = 1; i <= 4000; i++) q.done('dead', i)
    expect(q.due(0, 1, new Map())).toEqual([4001])
    for (let i = 4001; i <= 5000; i++) q.done('dead', i)
    expect(q.size()).toBe(0)
  })
})
