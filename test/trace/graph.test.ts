import { describe, expect, it } from 'vitest'
import { chainGraph, traceFrom, artifactView, confidenceOf } from '../../src/trace/index.js'
import { MAX_TRACE_NODES } from '../../src/contracts/trace.js'
import { contextKey, entityKey, traceFactsOf } from '../../src/events/trace-references.js'
import type { TraceLookup } from '../../src/trace/index.js'
import type { CDEvent } from '../../src/events/types.js'
import type { StoredEvent } from '../../src/events/records.js'
import { ORIGIN_A, ORIGIN_B, classOf } from '../store/fixtures.js'
import { SKIP_REASON, SPEC_AVAILABLE, loadExamples } from '../events/cdevents-spec.js'
import { linkedRelease } from './linked-chain.js'
import { storedFrom } from './signed.js'

/** The lookups a store answers from its indexes, answered from a list in memory. */
function memoryLookup (events: StoredEvent[], names: Record<string, string> = {}): TraceLookup & { reads: number } {
  const byDigest = new Map(events.map(s => [s.event.digest, s]))
  const facts = new Map(events.map(s => [s.event.digest, traceFactsOf(s.event.cdevent, s.event.eventClass)]))
  const lookup = {
    reads: 0,
    get: async (digest: string) => { lookup.reads++; return byDigest.get(digest) },
    getBySourceAndId: async (source: string, id: string) => events.find(s => s.event.cdevent.context.source === source && s.event.cdevent.context.id === id),
    holders: async (key: string, limit: number) => events.filter(s => facts.get(s.event.digest)?.identities.includes(key)).slice(0, limit).map(s => s.event.digest),
    referrers: async (key: string, limit: number) => events.flatMap(s => {
      const refs = facts.get(s.event.digest)?.references.filter(r => r.target === key).map(({ target, ...rest }) => rest) ?? []
      return refs.length === 0 ? [] : [{ digest: s.event.digest, refs }]
    }).slice(0, limit),
    chainDigests: async (chainId: string, limit: number) => events.filter(s => s.event.cdevent.context.chainId === chainId).slice(0, limit).map(s => s.event.digest),
    communityOf: (origin: string) => names[origin]
  }
  return lookup
}

function release (): { r: ReturnType<typeof linkedRelease>, s: Record<string, StoredEvent>, all: StoredEvent[] } {
  const r = linkedRelease()
  const s = {
    change: storedFrom(r.change, ORIGIN_A),
    build: storedFrom(r.build, ORIGIN_A),
    artifact: storedFrom(r.artifact, ORIGIN_A),
    testA: storedFrom(r.testA, ORIGIN_A),
    testBFailed: storedFrom(r.testBFailed, ORIGIN_B),
    testBPassed: storedFrom(r.testBPassed, ORIGIN_B)
  }
  return { r, s, all: Object.values(s) }
}

const d = (s: StoredEvent): string => s.event.digest

describe('trace references', () => {
  it.skipIf(!SPEC_AVAILABLE)(`reads the links of the official conformance examples ${SPEC_AVAILABLE ? '' : SKIP_REASON}`, () => {
    const example = loadExamples().find(x => x.name === 'conformance/build_finished.json')
    const cdevent = example?.event as unknown as CDEvent
    const facts = traceFactsOf(cdevent, classOf(cdevent.context.type))
    // no field names a build, so a build is reached by its context id only
    expect(facts.identities).toEqual([contextKey(cdevent.context.id)])
    const artifact = loadExamples().find(x => x.name === 'conformance/artifact_published.json')?.event as unknown as CDEvent
    expect(traceFactsOf(artifact, 'artifact.published').identities).toEqual([contextKey(artifact.context.id), entityKey('artifact', artifact.subject.id)])
    const target = contextKey('5328c37f-bb7e-4bb7-84ea-9f5f85e4a7ce')
    expect(facts.references).toEqual([
      { target, kind: 'relation', via: 'TRIGGER', role: 'up' },
      { target, kind: 'path', via: 'PATH', role: 'up' },
      { target, kind: 'path', via: 'END', role: 'up' },
      { target: entityKey('artifact', cdevent.subject.content.artifactId as string), kind: 'entity', via: 'artifactId', role: 'down' }
    ])
  })

  it('ignores malformed links instead of failing', () => {
    const { r } = release()
    const odd = { ...r.build, context: { ...r.build.context, links: [null, 7, { linkType: 'PATH' }, { linkType: 'RELATION', target: { contextId: 'x' } }, { linkType: 'PATH', from: { contextId: '' } }] } }
    expect(traceFactsOf(odd, 'build.finished').references.map(x => x.kind)).toEqual(['entity'])
  })

  it('keeps a link\'s source, so only the event with that (source, id) resolves it', async () => {
    const { r, s } = release()
    const elsewhere = storedFrom({ ...r.change, context: { ...r.change.context, source: 'https://other.example/scm' } }, ORIGIN_B)
    const linked = storedFrom({ ...r.build, context: { ...r.build.context, id: 'b2', links: [{ linkType: 'PATH', from: { contextId: r.change.context.id, source: 'https://other.example/scm' } }] } }, ORIGIN_A)
    const graph = await traceFrom(memoryLookup([s.change as StoredEvent, elsewhere, linked]), d(linked), { direction: 'up', depth: 1 })
    expect(graph?.edges.filter(e => e.kind === 'path')).toEqual([{ from: d(elsewhere), to: d(linked), kind: 'path', via: 'PATH' }])
  })
})

describe('trace graphs', () => {
  it('walks upstream and downstream through links and entity references, depth by depth', async () => {
    const { s, all } = release()
    const lookup = memoryLookup(all)
    const up = await traceFrom(lookup, d(s.testBPassed as StoredEvent), { direction: 'up', depth: 2 })
    expect(up?.nodes.filter(n => n.resolved).map(n => n.id).sort()).toEqual([s.testBPassed, s.artifact, s.build].map(x => d(x as StoredEvent)).sort())
    const both = await traceFrom(lookup, d(s.build as StoredEvent), { direction: 'both', depth: 1 })
    expect(both?.nodes.filter(n => n.resolved).map(n => n.id).sort()).toEqual([s.change, s.build, s.artifact].map(x => d(x as StoredEvent)).sort())
    expect(both?.edges).toContainEqual({ from: d(s.build as StoredEvent), to: d(s.artifact as StoredEvent), kind: 'entity', via: 'artifactId' })
    expect(await traceFrom(lookup, 'f'.repeat(64))).toBeUndefined()
    await expect(traceFrom(lookup, d(s.build as StoredEvent), { depth: 11 })).rejects.toMatchObject({ code: 'CDG_INVALID_REQUEST' })
  })

  it('shows links to events it does not hold as unresolved nodes', async () => {
    const { r, s } = release()
    const graph = await chainGraph(memoryLookup([s.build as StoredEvent, s.artifact as StoredEvent]), r.chainId)
    expect(graph.nodes.map(n => n.id).sort()).toEqual([d(s.build as StoredEvent), d(s.artifact as StoredEvent), `unresolved:context:${r.change.context.id}`].sort())
  })

  it('stops at MAX_TRACE_NODES and says so', async () => {
    const { r, s } = release()
    const runs = Array.from({ length: MAX_TRACE_NODES + 5 }, (_, i) =>
      storedFrom({ ...r.testBFailed, context: { ...r.testBFailed.context, id: `run-${i}` } }, ORIGIN_B))
    const lookup = memoryLookup([s.artifact as StoredEvent, ...runs])
    const down = await traceFrom(lookup, d(s.artifact as StoredEvent), { direction: 'down', depth: 1 })
    expect(down?.nodes).toHaveLength(MAX_TRACE_NODES)
    expect(down?.truncated).toBe(true)
    // records past the bound are not even read
    expect(lookup.reads).toBeLessThanOrEqual(MAX_TRACE_NODES + 1)
  })

  it('summarises an artifact\'s tests per community, newest verdict first', async () => {
    const { r, s, all } = release()
    const view = await artifactView(memoryLookup(all, { [ORIGIN_A]: 'alpha', [ORIGIN_B]: 'beta' }), r.purl)
    expect(view.confidence.map(c => [c.community, c.passed, c.failed, c.latest.outcome])).toEqual([['beta', 1, 1, 'success'], ['alpha', 1, 0, 'success']])
    expect(view.builds.map(n => n.id)).toEqual([d(s.build as StoredEvent)])
    expect(confidenceOf([
      { digest: '1', community: 'x', origin: 'o', suite: 's', eventClass: 'testsuiterun.finished', outcome: 'failure', time: '2026-01-02T00:00:00Z' },
      { digest: '2', community: 'x', origin: 'o', suite: 's', eventClass: 'testsuiterun.finished', outcome: 'success', time: '2026-01-01T00:00:00Z' }
    ])).toEqual([{ community: 'x', passed: 1, failed: 1, latest: { outcome: 'failure', suite: 's', digest: '1', time: '2026-01-02T00:00:00Z' } }])
  })
})
