import { describe, it, expect, vi, onTestFinished } from 'vitest'
import { ClassicLevel } from 'classic-level'
import { EventStore } from '../../src/store/index.js'
import { HeldIdFilter, MIN_LAYER_KEYS } from '../../src/store/held-ids.js'
import { sourceIdKey } from '../../src/store/keys.js'
import { ORIGIN_A, makeEvent, tempDir } from './fixtures.js'
import type { KeySource } from '../../src/store/held-ids.js'

/** Keys shaped like a CI tool's: a job URL and a run id. */
function toolKey (n: number, tool = 'jenkins'): string {
  return sourceIdKey(`https://${tool}.example.org/job/build-${n % 97}/`, `run-${n}`)
}

/** A scan source over fixed keys, in chunks as a LevelDB iterator gives them. */
function keySource (keys: string[]): KeySource {
  return {
    keys: () => {
      let at = 0
      return {
        nextv: async (size: number) => {
          const chunk = keys.slice(at, at + size)
          at += chunk.length
          return chunk
        },
        close: async () => {}
      }
    }
  }
}

async function scannedFilter (keys: string[] = [], expectedKeys = keys.length): Promise<HeldIdFilter> {
  const filter = new HeldIdFilter()
  filter.startScan(keySource(keys), expectedKeys, undefined)
  await filter.whenScanned()
  return filter
}

/** How many of the first `count` tool keys (all added) the filter rules out: must be none. */
function ruledOut (filter: HeldIdFilter, count: number): number {
  let n = 0
  for (let i = 0; i < count; i++) if (!filter.mightHold(toolKey(i))) n++
  return n
}

/** How many of `count` keys never added the filter still calls "maybe". */
function falseMaybes (filter: HeldIdFilter, from: number, count: number): number {
  let n = 0
  for (let i = from; i < from + count; i++) if (filter.mightHold(toolKey(i, 'gitlab'))) n++
  return n
}

describe('HeldIdFilter', () => {
  it('answers "maybe" for every key until its scan has ended', () => {
    const filter = new HeldIdFilter()
    expect(filter.mightHold(toolKey(1))).toBe(true)
    filter.startScan(keySource([]), 0, undefined)
    expect(filter.mightHold(toolKey(1))).toBe(true)
  })

  it('never rules out a scanned or added key, and rules out about 99 % of the others', async () => {
    const scanned = Array.from({ length: 20_000 }, (_, i) => toolKey(i))
    const filter = await scannedFilter(scanned)
    for (let i = 20_000; i < 25_000; i++) filter.add(toolKey(i))
    expect(ruledOut(filter, 25_000)).toBe(0)
    expect(falseMaybes(filter, 0, 20_000)).toBeLessThan(20_000 * 0.02)
  })

  it('grows past its first layer without losing a key or its precision', async () => {
    const filter = await scannedFilter()
    const total = MIN_LAYER_KEYS * 3 + 1
    for (let i = 0; i < total; i++) filter.add(toolKey(i))
    expect(ruledOut(filter, total)).toBe(0)
    // two layers, each at most ~1 % when full
    expect(falseMaybes(filter, 0, 20_000)).toBeLessThan(20_000 * 0.03)
  })

  it('stays at "maybe" for every key when its scan fails, and says so', async () => {
    const warn = vi.fn()
    const filter = new HeldIdFilter()
    const failing: KeySource = {
      keys: () => ({ nextv: async () => { throw new Error('disk gone') }, close: async () => {} })
    }
    filter.startScan(failing, 0, { warn } as never)
    await filter.whenScanned()
    expect(filter.mightHold(toolKey(1))).toBe(true)
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('stops a scan between chunks and closes its iterator', async () => {
    const filter = new HeldIdFilter()
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    let closed = false
    let chunks = 0
    const slow: KeySource = {
      keys: () => ({
        nextv: async () => { chunks++; await gate; return [toolKey(chunks)] },
        close: async () => { closed = true }
      })
    }
    filter.startScan(slow, 0, undefined)
    const stopped = filter.stop()
    release()
    await stopped
    expect(closed).toBe(true)
    expect(chunks).toBe(1)
    expect(filter.mightHold(toolKey(99))).toBe(true)
  })
})

describe('EventStore with its held-id filter', () => {
  async function reopened (): Promise<EventStore> {
    const dir = await tempDir()
    const store = new EventStore({}, { path: dir })
    onTestFinished(async () => { await store.stop() })
    await store.start()
    return store
  }

  /** Counts the LevelDB reads of the uniqueness index ('sid' sublevel) while `fn` runs. */
  async function uniquenessReads (fn: () => Promise<void>): Promise<number> {
    const spy = vi.spyOn(ClassicLevel.prototype as unknown as { _getMany: (keys: string[]) => Promise<unknown> }, '_getMany')
    onTestFinished(() => { spy.mockRestore() })
    await fn()
    return spy.mock.calls.filter(([keys]) => keys.some((key) => key.startsWith('!sid!'))).length
  }

  it('after a restart, still refuses a taken (source, id) and knows a held record, once the scan has ended', async () => {
    const store = await reopened()
    const held = makeEvent({ sequence: 1, source: '/ci/a', id: 'run-1' })
    await store.append(held, { trusted: true })
    await store.stop()
    await store.start()
    await store.heldIdsScanned()

    const taken = makeEvent({ sequence: 2, source: '/ci/a', id: 'run-1', content: { other: true } })
    const err = await store.append(taken, { trusted: true }).catch((e: unknown) => e)
    expect((err as { code: string }).code).toBe('CDG_CONFLICTING_EVENT')
    expect((await store.append(held, { trusted: true })).status).toBe('duplicate')
  })

  it('knows the keys committed while its scan ran, which the scan itself cannot see', async () => {
    const store = await reopened()
    // several scan chunks' worth, so the scan is still running when the appends below commit
    await store.appendBatch(Array.from({ length: 3000 }, (_, i) => ({ event: makeEvent({ sequence: i + 1 }), trusted: true })))
    await store.stop()
    await store.start()
    const during = Array.from({ length: 5 }, (_, i) => makeEvent({ sequence: 3001 + i, source: '/ci/during', id: `run-${i}` }))
    for (const event of during) expect((await store.append(event, { trusted: true })).status).toBe('stored')
    await store.heldIdsScanned()

    for (const event of during) expect((await store.append(event, { trusted: true })).status).toBe('duplicate')
    const taken = makeEvent({ sequence: 3006, source: '/ci/during', id: 'run-0', content: { other: true } })
    const err = await store.append(taken, { trusted: true }).catch((e: unknown) => e)
    expect((err as { code: string }).code).toBe('CDG_CONFLICTING_EVENT')
    expect((await store.stats()).events).toBe(3005)
  })

  it('does not read the uniqueness index for new events once the scan has ended', async () => {
    const store = await reopened()
    await store.append(makeEvent({ sequence: 1, origin: ORIGIN_A }), { trusted: true })
    await store.stop()
    await store.start()
    await store.heldIdsScanned()
    const after = await uniquenessReads(async () => {
      for (let sequence = 2; sequence <= 6; sequence++) await store.append(makeEvent({ sequence }), { trusted: true })
    })
    expect(after).toBe(0)

    // a record committed after the scan is known too: its copy is a duplicate, found by the read
    const copy = makeEvent({ sequence: 7 })
    await store.append(copy, { trusted: true })
    const again = await uniquenessReads(async () => {
      expect((await store.append(copy, { trusted: true })).status).toBe('duplicate')
    })
    expect(again).toBe(1)
  })
})
