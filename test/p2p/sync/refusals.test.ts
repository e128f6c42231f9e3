import { describe, expect, it } from 'vitest'
import { RefusalLedger, STALE_GAP_ROUNDS } from '../../../src/p2p/sync/index.js'
import type { PersistedRefusals } from '../../../src/p2p/sync/index.js'
import type { StateSection } from '../../../src/store/types.js'
import { CLASS, connect, createSyncNode, waitFor } from './helpers.js'

const ORIGIN = 'QmOrigin'

/** A StateSection in memory, as the store's would behave. */
function memorySection<T> (): StateSection<T> & { map: Map<string, T> } {
  const map = new Map<string, T>()
  return {
    map,
    get: async (key) => map.get(key),
    put: async (key, value) => { map.set(key, structuredClone(value)) },
    del: async (key) => { map.delete(key) },
    entries: async function * () { yield * [...map.entries()] }
  }
}

describe('RefusalLedger', () => {
  it('keeps refused sequences as intervals, counts them by reason and moves past them over held ones', () => {
    const ledger = new RefusalLedger({ policy: () => 'p1' })
    for (let seq = 1; seq <= 30; seq++) expect(ledger.record({ origin: ORIGIN, eventClass: CLASS, sequence: seq, reason: 'source-not-allowed', source: 'https://x.example' })).toBe(true)
    expect(ledger.record({ origin: ORIGIN, eventClass: CLASS, sequence: 7, reason: 'source-not-allowed' })).toBe(false)
    expect(ledger.intervals(ORIGIN, CLASS)).toEqual([[1, 30]])
    expect(ledger.knownThrough(ORIGIN, CLASS, 0)).toBe(30)
    for (const seq of [31, 32, 34]) ledger.noteHeld(ORIGIN, CLASS, seq)
    expect(ledger.knownThrough(ORIGIN, CLASS, 0)).toBe(32)
    ledger.noteHeld(ORIGIN, CLASS, 33)
    expect(ledger.knownThrough(ORIGIN, CLASS, 0)).toBe(34)
    // pairs without refusals are the store's business
    expect(ledger.knownThrough('QmOther', CLASS, 5)).toBe(5)
    expect(ledger.summary()).toMatchObject({ sequences: 30, reasons: { 'source-not-allowed': 30 }, originCount: 1, origins: [{ origin: ORIGIN, classes: [CLASS], lastSource: 'https://x.example' }] })
  })

  it('forgets the refusals of an origin whose policy changed, at run time and when loaded', async () => {
    const policies = new Map([[ORIGIN, 'p1'], ['QmOther', 'q1']])
    const section = memorySection<PersistedRefusals>()
    const ledger = new RefusalLedger({ section, policy: o => policies.get(o) ?? '' }, { flushMs: 1 })
    ledger.record({ origin: ORIGIN, eventClass: CLASS, sequence: 1, reason: 'unknown-signer' })
    ledger.record({ origin: 'QmOther', eventClass: CLASS, sequence: 1, reason: 'class-not-allowed' })
    await ledger.flush()
    expect([...section.map.keys()].sort()).toEqual([`${ORIGIN} ${CLASS}`, `QmOther ${CLASS}`])

    // the config changed while the node was down: only that origin's refusals are dropped
    policies.set(ORIGIN, 'p2')
    const reloaded = new RefusalLedger({ section, policy: o => policies.get(o) ?? '' })
    expect(await reloaded.load()).toEqual([ORIGIN])
    expect(reloaded.has(ORIGIN, CLASS, 1)).toBe(false)
    expect(reloaded.has('QmOther', CLASS, 1)).toBe(true)
    await reloaded.flush()
    expect([...section.map.keys()]).toEqual([`QmOther ${CLASS}`])

    // changed at run time
    policies.set('QmOther', 'q2')
    expect(reloaded.reconcile()).toEqual(['QmOther'])
    expect(reloaded.summary().sequences).toBe(0)
  })

  it('is bounded in pairs and intervals', () => {
    const ledger = new RefusalLedger({ policy: () => '' }, { maxPairs: 2, maxIntervals: 3 })
    for (const origin of ['Qm1', 'Qm2', 'Qm3']) ledger.record({ origin, eventClass: CLASS, sequence: 1, reason: 'unknown-signer' })
    expect(ledger.summary().originCount).toBe(2)
    expect(ledger.has('Qm1', CLASS, 1)).toBe(false)
    for (const seq of [1, 3, 5, 7, 9]) ledger.record({ origin: 'Qm3', eventClass: CLASS, sequence: seq, reason: 'unknown-signer' })
    expect(ledger.intervals('Qm3', CLASS)).toEqual([[5, 5], [7, 7], [9, 9]])
  })
})

describe('sync and refusals', () => {
  it('neither fetches refused sequences nor counts them as gaps', async () => {
    const a = await createSyncNode()
    a.records.add(ORIGIN, CLASS, 1, 10)
    let policy = 'narrow'
    const ledger = new RefusalLedger({ policy: () => policy })
    for (let seq = 1; seq <= 5; seq++) ledger.record({ origin: ORIGIN, eventClass: CLASS, sequence: seq, reason: 'source-not-allowed' })
    const b = await createSyncNode({ components: { refusals: ledger } })
    await connect(b.libp2p, a.libp2p)
    await waitFor(() => b.libp2p.getPeers().length === 1, { message: 'connection' })

    expect(await b.sync.requestGap(ORIGIN, CLASS, 1, 10)).toBe(5)
    expect(b.records.sequences(ORIGIN, CLASS)).toEqual([6, 7, 8, 9, 10])
    expect(b.records.calls.map(c => c.sequence)).toEqual([6, 7, 8, 9, 10])
    expect(b.sync.state().gaps).toBe(0)

    // a round: the pair is complete (held or refused), nothing is asked for again
    await b.sync.syncNow()
    expect(b.records.calls).toHaveLength(5)

    // the policy changed: forgotten, and resync starts a round that fetches them
    policy = 'wide'
    expect(ledger.reconcile()).toEqual([ORIGIN])
    b.sync.resync([ORIGIN])
    await waitFor(() => b.records.count(ORIGIN, CLASS) === 10, { message: 'B to fetch the sequences it had refused' })
  })

  it('tells the node of a gap still open after a few rounds', async () => {
    const a = await createSyncNode()
    a.records.add(ORIGIN, CLASS, 1, 3)
    const stale: Array<{ origin: string, eventClass: string, missing: number, rounds: number }> = []
    const b = await createSyncNode({ components: { staleGap: (origin, eventClass, missing, rounds) => { stale.push({ origin, eventClass, missing, rounds }) } } })
    await connect(b.libp2p, a.libp2p)
    await waitFor(() => b.libp2p.getPeers().length === 1, { message: 'connection' })

    expect(await b.sync.requestGap(ORIGIN, CLASS, 7, 9)).toBe(0)
    for (let round = 0; round < STALE_GAP_ROUNDS; round++) {
      expect(stale).toEqual([])
      await b.sync.syncNow()
    }
    expect(stale).toEqual([{ origin: ORIGIN, eventClass: CLASS, missing: 3, rounds: STALE_GAP_ROUNDS }])
  })
})
