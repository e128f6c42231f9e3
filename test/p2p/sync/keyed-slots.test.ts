import { describe, expect, it } from 'vitest'
import { KeyedSlots } from '../../../src/p2p/sync/keyed-slots.js'

const never = new AbortController().signal

describe('KeyedSlots', () => {
  it('lets `limit` holders of a key in at once and the rest in arrival order, each key on its own', async () => {
    const slots = new KeyedSlots(2)
    const first = await slots.acquire('a', never)
    const second = await slots.acquire('a', never)
    const other = await slots.acquire('b', never)
    const order: string[] = []
    const third = slots.acquire('a', never).then(release => { order.push('third'); return release })
    const fourth = slots.acquire('a', never).then(release => { order.push('fourth'); return release })
    await Promise.resolve()
    expect(order).toEqual([])
    expect(slots.held('a')).toBe(2)
    expect(slots.held('b')).toBe(1)

    first()
    first() // a second release changes nothing
    const releaseThird = await third
    expect(order).toEqual(['third'])
    expect(slots.held('a')).toBe(2)
    second()
    const releaseFourth = await fourth
    expect(order).toEqual(['third', 'fourth'])
    for (const release of [releaseThird, releaseFourth, other]) release()
    expect(slots.held('a')).toBe(0)
    expect(slots.held('b')).toBe(0)
  })

  it('a waiter whose signal aborts leaves the queue with the reason and takes no slot', async () => {
    const slots = new KeyedSlots(1)
    const holder = await slots.acquire('a', never)
    const controller = new AbortController()
    const waiting = slots.acquire('a', controller.signal)
    const behind = slots.acquire('a', never)
    controller.abort(new Error('stopping'))
    await expect(waiting).rejects.toThrow('stopping')
    holder()
    const release = await behind
    expect(slots.held('a')).toBe(1)
    release()
    expect(slots.held('a')).toBe(0)
    await expect(slots.acquire('a', controller.signal)).rejects.toThrow('stopping')
    expect(slots.held('a')).toBe(0)
  })

  it('refuses a limit below one', () => {
    expect(() => new KeyedSlots(0)).toThrow(RangeError)
  })
})
