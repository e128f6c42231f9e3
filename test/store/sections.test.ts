import { describe, it, expect } from 'vitest'
import { EventStore } from '../../src/store/index.js'
import { collect, openStore, tempDir } from './fixtures.js'
import type { CdgossipError } from '../../src/errors.js'

interface Progress { cursor: string, attempts: number }

describe('EventStore state sections', () => {
  it('puts, gets, deletes and lists typed JSON values', async () => {
    const { store } = await openStore()
    const progress = store.section<Progress>('delivery-progress')
    expect(await progress.get('sub-1')).toBeUndefined()
    await progress.put('sub-2', { cursor: '5', attempts: 0 })
    await progress.put('sub-1', { cursor: 'a', attempts: 2 })
    await progress.put('sub-1', { cursor: 'b', attempts: 3 })
    expect(await progress.get('sub-1')).toEqual({ cursor: 'b', attempts: 3 })
    expect(await collect(progress.entries())).toEqual([['sub-1', { cursor: 'b', attempts: 3 }], ['sub-2', { cursor: '5', attempts: 0 }]])
    await progress.del('sub-1')
    await progress.del('never-there')
    expect(await progress.get('sub-1')).toBeUndefined()
    expect(await collect(progress.entries())).toHaveLength(1)
  })

  it('keeps sections apart from each other and from the events', async () => {
    const { store } = await openStore()
    const a = store.section<number>('trust')
    const b = store.section<number>('trust-entries')
    await a.put('k', 1)
    await b.put('k', 2)
    expect(await a.get('k')).toBe(1)
    expect(await b.get('k')).toBe(2)
    expect(await collect(a.entries())).toEqual([['k', 1]])
    expect((await store.stats()).events).toBe(0)
    expect(await store.query({})).toEqual({ events: [] })
  })

  it('lists many entries and stops early when the consumer breaks', async () => {
    const { store } = await openStore()
    const s = store.section<{ i: number }>('dead-letters')
    for (let i = 0; i < 600; i++) await s.put(`k${String(i).padStart(4, '0')}`, { i })
    expect(await collect(s.entries())).toHaveLength(600)
    let n = 0
    for await (const [key] of s.entries()) {
      expect(key.startsWith('k')).toBe(true)
      if (++n === 10) break
    }
    expect(n).toBe(10)
  })

  it('validates names and keys', async () => {
    const { store } = await openStore()
    for (const name of ['', 'Trust', 'trust!', 'a/b', '-x', 'x-', 'x'.repeat(65)]) {
      expect(() => store.section(name), name).toThrow(expect.objectContaining({ code: 'CDG_INVALID_REQUEST' }))
    }
    const s = store.section<number>('subscriptions')
    const code = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e: unknown) => (e as CdgossipError).code)
    expect(await code(s.put('', 1))).toBe('CDG_INVALID_REQUEST')
    expect(await code(s.get('x'.repeat(2000)))).toBe('CDG_INVALID_REQUEST')
  })

  it('can be taken before start and refuses use while stopped', async () => {
    const dir = await tempDir()
    const store = new EventStore({}, { path: dir })
    const s = store.section<string>('subscriptions')
    const err = await s.get('x').catch((e: unknown) => e)
    expect((err as CdgossipError).code).toBe('CDG_NOT_STARTED')
    await store.start()
    try {
      await s.put('x', 'y')
      expect(await s.get('x')).toBe('y')
    } finally {
      await store.stop()
    }
  })
})
