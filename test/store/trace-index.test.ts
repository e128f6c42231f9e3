import { Level } from 'level'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createEventStore } from '../../src/store/index.js'
import { contextKey, entityKey } from '../../src/events/trace-references.js'
import { ORIGIN_A, ORIGIN_B, openStore, tempDir } from './fixtures.js'
import { linkedRelease } from '../trace/linked-chain.js'
import { signedFrom } from '../trace/signed.js'
import type { EventStore } from '../../src/store/index.js'
import type { SignedEvent } from '../../src/events/types.js'

function release (): { r: ReturnType<typeof linkedRelease>, events: Record<'change' | 'build' | 'artifact' | 'testA' | 'testBFailed' | 'testBPassed', SignedEvent> } {
  const r = linkedRelease()
  return {
    r,
    events: {
      change: signedFrom(r.change, ORIGIN_A),
      build: signedFrom(r.build, ORIGIN_A),
      artifact: signedFrom(r.artifact, ORIGIN_A),
      testA: signedFrom(r.testA, ORIGIN_A),
      testBFailed: signedFrom(r.testBFailed, ORIGIN_B),
      testBPassed: signedFrom(r.testBPassed, ORIGIN_B)
    }
  }
}

async function expectIndexed (store: EventStore, { r, events: e }: ReturnType<typeof release>): Promise<void> {
  // who is the artifact, who references it (and how), who links to its context id
  expect(await store.traceHolders(entityKey('artifact', r.purl), 10)).toEqual([e.artifact.digest])
  const referrers = await store.traceReferrers(entityKey('artifact', r.purl), 10)
  expect(referrers.map(x => [x.digest, x.refs]).sort()).toEqual([
    [e.build.digest, [{ kind: 'entity', via: 'artifactId', role: 'down' }]],
    [e.testBFailed.digest, [{ kind: 'entity', via: 'customData.artifactId', role: 'up' }]]
  ].sort())
  const linkers = await store.traceReferrers(contextKey(r.artifact.context.id), 10)
  expect(linkers.map(x => x.digest).sort()).toEqual([e.testA.digest, e.testBPassed.digest].sort())
  expect(linkers[0]?.refs).toEqual([{ kind: 'relation', via: 'ARTIFACT', role: 'up' }])
  expect(await store.traceReferrers(contextKey(r.change.context.id), 10)).toEqual([{ digest: e.build.digest, refs: [{ kind: 'path', via: 'PATH', role: 'up' }] }])
  expect(await store.traceHolders(contextKey(r.build.context.id), 10)).toEqual([e.build.digest])
  expect(await store.traceHolders(entityKey('environment', 'qa'), 10)).toEqual([])
  expect((await store.traceReferrers(entityKey('environment', 'qa'), 10)).length).toBe(3)
  // the chain index, as digests in arrival order
  expect(await store.chainDigests(r.chainId, 10)).toEqual(Object.values(e).map(x => x.digest))
  expect(await store.chainDigests(r.chainId, 2)).toEqual([e.change.digest, e.build.digest])
}

describe('trace indexes', () => {
  it('index each record\'s identities, links and entity references when it is stored', async () => {
    const { store } = await openStore()
    const rel = release()
    await store.appendBatch(Object.values(rel.events).map(event => ({ event, trusted: true })))
    await expectIndexed(store, rel)
    // a duplicate writes nothing new
    await store.append(rel.events.build, { trusted: true })
    expect(await store.traceReferrers(contextKey(rel.r.change.context.id), 10)).toHaveLength(1)
  })

  it('are built once when a store of the previous format (3) is opened', async () => {
    const dir = await tempDir()
    const rel = release()
    const before = await createEventStore({}, { path: dir })
    await before.appendBatch(Object.values(rel.events).map(event => ({ event, trusted: true })))
    await before.stop()
    // what a format 3 store looks like: no trace indexes
    const raw = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    await raw.sublevel('trace-id').clear()
    await raw.sublevel('trace-ref').clear()
    await raw.sublevel<string, unknown>('meta', { valueEncoding: 'json' }).put('format', 3)
    expect(await raw.sublevel('trace-ref').keys().all()).toEqual([])
    await raw.close()

    const store = await createEventStore({}, { path: dir })
    onTestFinished(async () => { await store.stop() })
    await expectIndexed(store, rel)
    await store.stop()
    const after = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    expect(await after.sublevel<string, unknown>('meta', { valueEncoding: 'json' }).get('format')).toBe(4)
    await after.close()
  })
})
