import { describe, it, expect } from 'vitest'
import { MAX_INBOUND_STREAMS, MAX_STREAMS_PER_PEER, PAGE_SIZE } from '../../../src/p2p/sync/index.js'
import { CLASS, OTHER_CLASS, MemoryRecords, connect, createSyncNode, peerState, waitFor } from './helpers.js'

function unique (values: number[]): boolean {
  return new Set(values).size === values.length
}

describe('SyncService catch-up', () => {
  it('catches up 1,000 missing records of an origin in bounded pages, fetching and storing each once', async () => {
    const a = await createSyncNode()
    a.records.add(a.peerId, CLASS, 1, 1_000)
    const b = await createSyncNode()

    await connect(b.libp2p, a.libp2p)
    await waitFor(() => b.records.count(a.peerId, CLASS) === 1_000, { message: 'B to hold 1,000 records' })

    const seqs = b.records.calls.map(c => c.sequence)
    expect(seqs).toHaveLength(1_000)
    expect(unique(seqs)).toBe(true)
    expect(b.records.calls.every(c => c.via === 'sync' && c.from === a.peerId)).toBe(true)
    // two pages of PAGE_SIZE, each read lazily from the store and never beyond the page
    expect(a.records.rangeReads).toBe(Math.ceil(1_000 / PAGE_SIZE))
    expect(a.records.maxPulled).toBeLessThanOrEqual(PAGE_SIZE)
    const state = b.sync.state()
    expect(state.fetched).toBe(1_000)
    expect(state.duplicates).toBe(0)
    expect(state.rejected).toBe(0)
    expect(peerState(b, a.peerId)?.lastSyncAt).toBeDefined()
    expect(peerState(b, a.peerId)?.inFlight).toBe(0)
  })

  it('fetches only what is above its contiguous point and only the wanted classes', async () => {
    const a = await createSyncNode()
    a.records.add(a.peerId, CLASS, 1, 120).add(a.peerId, OTHER_CLASS, 1, 30)
    const b = await createSyncNode()
    b.records.add(a.peerId, CLASS, 1, 100)

    await connect(b.libp2p, a.libp2p)
    await waitFor(() => b.records.count(a.peerId, CLASS) === 120, { message: 'B to hold 120 records' })
    await b.sync.syncNow()

    expect(b.records.calls.map(c => c.sequence)).toEqual(Array.from({ length: 20 }, (_, i) => 101 + i))
    expect(b.records.count(a.peerId, OTHER_CLASS)).toBe(0)
  })

  it('catches up from a third peer when the origin is gone', async () => {
    const origin = await createSyncNode()
    origin.records.add(origin.peerId, CLASS, 1, 300)
    const relay = await createSyncNode()
    await connect(relay.libp2p, origin.libp2p)
    await waitFor(() => relay.records.count(origin.peerId, CLASS) === 300, { message: 'relay to copy the origin' })
    await origin.sync.stop()
    await origin.libp2p.stop()

    const late = await createSyncNode()
    await connect(late.libp2p, relay.libp2p)
    await waitFor(() => late.records.count(origin.peerId, CLASS) === 300, { message: 'late node to catch up from the relay' })
    expect(late.records.calls.every(c => c.from === relay.peerId && c.origin === origin.peerId)).toBe(true)
    expect(unique(late.records.calls.map(c => c.sequence))).toBe(true)
  })

  it('a gap request fetches exactly the missing record', async () => {
    const a = await createSyncNode()
    a.records.add(a.peerId, CLASS, 1, 10)
    // wanting no class keeps background rounds out of the way: only the gap request fetches
    const b = await createSyncNode({ classes: [] })
    b.records.add(a.peerId, CLASS, 1, 4).add(a.peerId, CLASS, 6, 10)

    await connect(b.libp2p, a.libp2p)
    await waitFor(() => b.libp2p.getPeers().length === 1, { message: 'connection' })
    const stored = await b.sync.requestGap(a.peerId, CLASS, 5)

    expect(stored).toBe(1)
    expect(b.records.calls.map(c => c.sequence)).toEqual([5])
    expect(b.records.has(a.peerId, CLASS, 5)).toBe(true)
    expect(b.sync.state().gaps).toBe(0)
  })

  it('gap fills for many pairs at once share the peer\'s streams: none is reset, every gap is filled', async () => {
    const classes = Array.from({ length: 3 * MAX_STREAMS_PER_PEER }, (_, i) => `class-${i}.happened`)
    const a = await createSyncNode({ classes: [] })
    const b = await createSyncNode({ classes: [] })
    for (const eventClass of classes) {
      a.records.add(a.peerId, eventClass, 1, 60)
      b.records.add(a.peerId, eventClass, 1, 1)
    }
    await connect(b.libp2p, a.libp2p)
    await waitFor(() => b.libp2p.getPeers().length === 1, { message: 'connection' })

    // more exchanges at once than the peer accepts streams (MAX_INBOUND_STREAMS)
    expect(classes.length).toBeGreaterThan(MAX_INBOUND_STREAMS)
    const stored = await Promise.all(classes.map(async eventClass => b.sync.requestGap(a.peerId, eventClass, 2, 60)))

    expect(stored).toEqual(classes.map(() => 59))
    expect(b.sync.state().gaps).toBe(0)
    expect(peerState(b, a.peerId)?.score).toBeGreaterThanOrEqual(0)
  })

  it('a gap no peer can fill stays counted', async () => {
    const a = await createSyncNode()
    a.records.add(a.peerId, CLASS, 1, 3)
    const b = await createSyncNode({ classes: [] })
    await connect(b.libp2p, a.libp2p)
    await waitFor(() => b.libp2p.getPeers().length === 1, { message: 'connection' })

    expect(await b.sync.requestGap(a.peerId, CLASS, 7, 9)).toBe(0)
    expect(b.sync.state().gaps).toBe(3)
  })

  it('fetches from a peer whose history starts later in one request, skipping the hole', async () => {
    const a = await createSyncNode({ classes: [] })
    a.records.add('QmOrigin2', CLASS, 501, 600)
    const b = await createSyncNode({ classes: [] })
    await connect(b.libp2p, a.libp2p)
    await waitFor(() => b.libp2p.getPeers().length === 1, { message: 'connection' })

    b.classes = [CLASS]
    await b.sync.syncWith(a.libp2p.peerId)
    expect(b.records.sequences('QmOrigin2', CLASS)).toEqual(Array.from({ length: 100 }, (_, i) => 501 + i))
    expect(a.records.rangeReads).toBe(1)
  })

  it('a gap on a pair first met live fixes the floor under now, and later gaps are filled', async () => {
    const a = await createSyncNode()
    a.records.add(a.peerId, CLASS, 1, 50)
    const b = await createSyncNode({ start: 'now', classes: [] })
    await connect(b.libp2p, a.libp2p)
    await waitFor(() => b.libp2p.getPeers().length === 1, { message: 'connection' })

    // record 41 arrived live with nothing held: 1..40 is history
    expect(await b.sync.requestGap(a.peerId, CLASS, 1, 40)).toBe(0)
    expect(b.records.floors.get(`${a.peerId}\n${CLASS}`)).toBe(40)
    expect(b.records.calls).toHaveLength(0)
    // then 41 and 45 held: 42..44 missing
    expect(await b.sync.requestGap(a.peerId, CLASS, 42, 44)).toBe(3)
    expect(b.records.calls.map(c => c.sequence)).toEqual([42, 43, 44])
  })

  it('concurrent sync with two peers fetches nothing twice', async () => {
    const origin = 'QmOrigin1'
    const a = await createSyncNode()
    const c = await createSyncNode()
    a.records.add(origin, CLASS, 1, 1_000)
    c.records.add(origin, CLASS, 1, 1_000)
    // small pages: many claims interleave between the two sessions
    const b = await createSyncNode({ classes: [], init: { pageSize: 25 } })
    await connect(b.libp2p, a.libp2p)
    await connect(b.libp2p, c.libp2p)
    await waitFor(() => b.libp2p.getPeers().length === 2, { message: 'connections' })

    b.classes = [CLASS]
    await Promise.all([b.sync.syncWith(a.libp2p.peerId), b.sync.syncWith(c.libp2p.peerId)])

    const seqs = b.records.calls.map(call => call.sequence)
    expect(b.records.count(origin, CLASS)).toBe(1_000)
    expect(seqs).toHaveLength(1_000)
    expect(unique(seqs)).toBe(true)
    expect(b.sync.state().duplicates).toBe(0)
  })

  it('start point now: skips history known when the pair is first met, then fetches what follows', async () => {
    const a = await createSyncNode()
    a.records.add(a.peerId, CLASS, 1, 50)
    const now = await createSyncNode({ start: 'now' })
    const beginning = await createSyncNode({ start: 'beginning' })

    await connect(now.libp2p, a.libp2p)
    await connect(beginning.libp2p, a.libp2p)
    await waitFor(() => beginning.records.count(a.peerId, CLASS) === 50, { message: 'beginning node to backfill' })
    await waitFor(() => peerState(now, a.peerId)?.lastSyncAt !== undefined, { message: 'now node to sync' })
    expect(now.records.count(a.peerId, CLASS)).toBe(0)
    expect(now.records.floors.get(`${a.peerId}\n${CLASS}`)).toBe(50)
    expect(beginning.records.floors.get(`${a.peerId}\n${CLASS}`)).toBe(0)

    a.records.add(a.peerId, CLASS, 51, 60)
    await now.sync.syncNow()
    await beginning.sync.syncNow()
    expect(now.records.sequences(a.peerId, CLASS)).toEqual(Array.from({ length: 10 }, (_, i) => 51 + i))
    expect(beginning.records.count(a.peerId, CLASS)).toBe(60)
  })

  it('respects a floor the node persisted, and keeps floors in memory when the node does not', async () => {
    const a = await createSyncNode()
    a.records.add(a.peerId, CLASS, 1, 40)
    const records = new MemoryRecords()
    records.floors.set(`${a.peerId}\n${CLASS}`, 30)
    const floored = await createSyncNode({ records, start: 'beginning' })
    const memoryOnly = await createSyncNode({ start: 'now', persistFloors: false })

    await connect(floored.libp2p, a.libp2p)
    await connect(memoryOnly.libp2p, a.libp2p)
    await waitFor(() => floored.records.count(a.peerId, CLASS) === 10, { message: 'floored node to fetch above its floor' })
    await waitFor(() => peerState(memoryOnly, a.peerId)?.lastSyncAt !== undefined, { message: 'memory-only node to sync' })
    expect(floored.records.sequences(a.peerId, CLASS)[0]).toBe(31)
    expect(memoryOnly.records.count(a.peerId, CLASS)).toBe(0)

    a.records.add(a.peerId, CLASS, 41, 45)
    await memoryOnly.sync.syncNow()
    expect(memoryOnly.records.sequences(a.peerId, CLASS)).toEqual([41, 42, 43, 44, 45])
  })

  it('skips records refused as untrusted on later rounds instead of fetching them again', async () => {
    const a = await createSyncNode()
    a.records.add('QmUntrusted', CLASS, 1, 20)
    const b = await createSyncNode()
    b.records.untrusted.add('QmUntrusted')

    await connect(b.libp2p, a.libp2p)
    await waitFor(() => b.sync.state().refused === 20, { message: 'B to refuse 20 untrusted records' })
    expect(b.sync.state().rejected).toBe(0)
    await waitFor(() => peerState(b, a.peerId)?.lastSyncAt !== undefined, { message: 'session to end' })
    await b.sync.syncNow()
    expect(b.records.calls).toHaveLength(20)
    // refusing a genuine record relayed by a peer is not the peer's fault
    expect(peerState(b, a.peerId)?.score).toBeGreaterThan(0)
  })

  it('start and stop are idempotent, and a stopped service refuses work', async () => {
    const b = await createSyncNode()
    await Promise.all([b.sync.start(), b.sync.start()])
    expect(b.sync.isStarted()).toBe(true)
    await b.sync.stop()
    await b.sync.stop()
    expect(b.sync.isStarted()).toBe(false)
    await expect(b.sync.syncNow()).rejects.toMatchObject({ code: 'CDG_NOT_STARTED' })
    // gap hints keep coming from the receive path while sync is stopped: dropped, not thrown
    await expect(b.sync.requestGap('QmX', CLASS, 1)).resolves.toBe(0)
    await b.sync.start()
    expect(b.sync.isStarted()).toBe(true)
  })

  it('rejects malformed gap requests', async () => {
    const b = await createSyncNode()
    await expect(b.sync.requestGap('Qm X', CLASS, 1)).rejects.toMatchObject({ code: 'CDG_INVALID_REQUEST' })
    await expect(b.sync.requestGap('QmX', CLASS, 0)).rejects.toMatchObject({ code: 'CDG_INVALID_REQUEST' })
    await expect(b.sync.requestGap('QmX', CLASS, 5, 4)).rejects.toMatchObject({ code: 'CDG_INVALID_REQUEST' })
  })
})
