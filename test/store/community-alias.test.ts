import { describe, it, expect } from 'vitest'
import { ORIGIN_A, ORIGIN_B, collect, openStore, recordOf } from './fixtures.js'
import type { CDEvent } from '../../src/events/types.js'

/** Two nodes of one community signing the same tool event: same CDEvent, their own origin and sequence. */
const CDEVENT: CDEvent = {
  context: { specversion: '0.5.1', id: 'push-delivery-1', source: '/github/example/repo', type: 'dev.cdevents.change.merged.0.3.0', timestamp: '2026-12-02T10:00:00.000Z' },
  subject: { id: 'example/repo#1', source: '/github/example/repo', content: { repository: { id: 'example/repo' } } }
}
const sameCommunity = (): boolean => true

describe('EventStore aliases (the same event signed by two nodes of one community)', () => {
  it('keeps the second copy as an alias: a duplicate of the first, served by sync, in no query', async () => {
    const { store } = await openStore()
    const first = recordOf(CDEVENT, ORIGIN_A, 1)
    const second = recordOf(CDEVENT, ORIGIN_B, 1)
    await store.append(first, { trusted: true })

    const outcome = await store.append(second, { trusted: true, aliasWithin: sameCommunity })
    expect(outcome.status).toBe('duplicate')
    expect(outcome.stored.event.digest).toBe(first.digest)

    // the signer's sequence has no hole: nothing for sync to fetch again, and the alias is served byte-identical
    const states = await store.sequenceStates()
    expect(states.find(s => s.origin === ORIGIN_B)).toMatchObject({ highest: 1, contiguous: 1 })
    expect(await store.missingSequences(ORIGIN_B, second.eventClass, 10)).toEqual([])
    const served = await collect(store.readSequenceRange(ORIGIN_B, second.eventClass, 1, 1))
    expect(Buffer.from(served[0] ?? new Uint8Array()).equals(Buffer.from(second.bytes))).toBe(true)

    // one event for queries and streams
    const page = await store.query({})
    expect(page.events.map(e => e.event.digest)).toEqual([first.digest])
    expect((await store.stats()).events).toBe(1)

    // the alias arriving again (gossip and sync both deliver it) is still a duplicate of the kept record
    const again = await store.append(second, { trusted: true, aliasWithin: sameCommunity })
    expect(again).toMatchObject({ status: 'duplicate', stored: { event: { digest: first.digest } } })
  })

  it('takes an alias and its kept record in one batch', async () => {
    const { store } = await openStore()
    const first = recordOf(CDEVENT, ORIGIN_A, 1)
    const second = recordOf(CDEVENT, ORIGIN_B, 1)
    const outcomes = await store.appendBatch([{ event: first, trusted: true }, { event: second, trusted: true, aliasWithin: sameCommunity }])
    expect(outcomes.map(o => o.status)).toEqual(['stored', 'duplicate'])
    expect(await store.missingSequences(ORIGIN_B, second.eventClass, 10)).toEqual([])
  })

  it('stays a conflict for other data, for signers of different communities, and without aliasWithin', async () => {
    const { store } = await openStore()
    await store.append(recordOf(CDEVENT, ORIGIN_A, 1), { trusted: true })
    const other = recordOf({ ...CDEVENT, subject: { ...CDEVENT.subject, content: { repository: { id: 'other/repo' } } } }, ORIGIN_B, 1)
    await expect(store.append(other, { trusted: true, aliasWithin: sameCommunity })).rejects.toMatchObject({ code: 'CDG_CONFLICTING_EVENT' })
    const copy = recordOf(CDEVENT, ORIGIN_B, 1)
    await expect(store.append(copy, { trusted: true, aliasWithin: () => false })).rejects.toMatchObject({ code: 'CDG_CONFLICTING_EVENT' })
    await expect(store.append(copy, { trusted: true })).rejects.toMatchObject({ code: 'CDG_CONFLICTING_EVENT' })
  })
})
