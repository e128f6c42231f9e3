import { describe, expect, it } from 'vitest'
import { eventQueryPredicate } from '../../src/store/index.js'
import type { EventStore, StoredEvent } from '../../src/store/index.js'
import { appendAll, makeEvent, openStore } from './fixtures.js'

/** Every page of a query, following `next`. */
async function pageAll (store: EventStore, type: string, limit: number): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | undefined
  for (let pages = 0; pages < 1000; pages++) {
    const page = await store.query({ type, limit, ...(cursor === undefined ? {} : { cursor }) })
    ids.push(...page.events.map((s: StoredEvent) => s.event.cdevent.context.id))
    if (page.next === undefined) return ids
    cursor = page.next
  }
  throw new Error('paging does not end')
}

describe('EventStore query type: class patterns as subscriptions write them', () => {
  it('<subject>.* takes every class of that subject, * every class; paging and the stream predicate agree', async () => {
    const { store } = await openStore({ maxScan: 5 })
    const types = [
      'dev.cdevents.artifact.published.0.3.0', 'dev.cdevents.pipelinerun.finished.0.3.0', 'dev.cdevents.artifact.packaged.0.3.0',
      'dev.cdevents.artifactx.published.0.3.0', 'dev.cdevents.taskrun.finished.0.3.0', 'dev.cdevents.artifact.signed.0.3.0'
    ]
    const events = await appendAll(store, Array.from({ length: 24 }, (_, i) => makeEvent({ type: types[i % types.length] })))
    const artifactIds = events.filter(e => e.cdevent.context.type.startsWith('dev.cdevents.artifact.')).map(e => e.cdevent.context.id)
    // a small scan bound: pages come back short and still carry `next`
    expect(await pageAll(store, 'artifact.*', 2)).toEqual(artifactIds)
    expect(await pageAll(store, '*', 100)).toEqual(events.map(e => e.cdevent.context.id))
    expect(await pageAll(store, 'artifact.published', 100)).toEqual(events.filter(e => e.cdevent.context.type === types[0]).map(e => e.cdevent.context.id))

    const matches = eventQueryPredicate({ type: 'artifact.*' })
    const stored = await store.readAfter(undefined, 100)
    expect(stored.filter(matches).map(s => s.event.cdevent.context.id)).toEqual(artifactIds)
  })
})
