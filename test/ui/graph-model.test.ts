import { describe, expect, it } from 'vitest'
import type { ArtifactView, TraceGraph } from '../../src/contracts/trace.js'
import { artifactTimeline } from '../../src/ui/app/views/artifact-model.js'
import { communityColours } from '../../src/ui/app/views/community-colour.js'
import { UNRESOLVED_COLOUR, graphModel } from '../../src/ui/app/views/trace-model.js'

/**
 * The pure halves of the Chain/Trace and Artifact views: what they show, before any DOM (the
 * routes and the drawing are tested in a browser, graph-views.test.ts).
 */

const PEER_C = '12D3KooWUntrustedOriginxxxxxxxxxxxxxxxxxxxxxxxx'
const nameOf = (peerId: string): string => peerId === PEER_C ? 'peer 12D3…xxxx' : peerId

const GRAPH: TraceGraph = {
  nodes: [
    { id: 'd1', digest: 'd1', resolved: true, eventClass: 'build.finished', community: 'onap', subject: 'build-1', time: '2026-01-01T00:00:00Z' },
    { id: 'd2', digest: 'd2', resolved: true, eventClass: 'artifact.published', community: 'onap', subject: 'pkg:oci/so@sha256:ab' },
    { id: 'd3', digest: 'd3', resolved: true, eventClass: 'testsuiterun.finished', community: 'opnfv', subject: 'run-1', outcome: 'failure' },
    { id: 'd4', digest: 'd4', resolved: true, eventClass: 'testsuiterun.finished', origin: PEER_C, subject: 'run-2', outcome: 'success' },
    { id: 'unresolved:x', resolved: false, contextId: 'ctx-started', source: 'https://build.opnfv.org' },
    { id: 'unresolved:e', resolved: false, entity: { type: 'environment', id: 'pod-1' } }
  ],
  edges: [
    { from: 'd1', to: 'd2', kind: 'path', via: 'PATH' },
    { from: 'd1', to: 'd2', kind: 'entity', via: 'artifactId' },
    { from: 'd1', to: 'd2', kind: 'entity', via: 'artifactId' },
    { from: 'd2', to: 'd3', kind: 'relation', via: 'ARTIFACT' },
    { from: 'unresolved:x', to: 'd3', kind: 'path', via: 'END' },
    { from: 'unresolved:e', to: 'd4', kind: 'entity', via: 'environment' }
  ],
  truncated: true
}

describe('the trace graph as drawn', () => {
  it('keeps every node and edge, with ids unique even for repeated edges', () => {
    const model = graphModel(GRAPH, nameOf)
    expect(model.nodes.map(n => n.id)).toEqual(GRAPH.nodes.map(n => n.id))
    expect(model.edges.map(e => [e.from, e.to])).toEqual(GRAPH.edges.map(e => [e.from, e.to]))
    expect(new Set(model.edges.map(e => e.id)).size).toBe(GRAPH.edges.length)
    expect(model.edges.map(e => e.label)).toContain('relation: ARTIFACT')
    expect(model.truncated).toBe(true)
  })

  it('colours by community, one colour per community of the graph, with a legend of the communities present', () => {
    const model = graphModel(GRAPH, nameOf)
    const colourOf = (id: string): string | undefined => model.nodes.find(n => n.id === id)?.colour
    expect(colourOf('d1')).toBe(colourOf('d2'))
    expect(model.legend.map(l => l.community)).toEqual(['onap', 'opnfv', 'peer 12D3…xxxx'])
    expect(new Set(model.legend.map(l => l.colour)).size).toBe(3)
    expect(colourOf('d3')).toBe(model.legend.find(l => l.community === 'opnfv')?.colour)
  })

  it('gives names the same colours whatever their order, and distinct ones while the palette lasts', () => {
    const names = ['onap', 'opnfv', 'tekton', 'self', 'a', 'b', 'c', 'd', 'e', 'f']
    const colours = communityColours(names)
    expect(new Set(colours.values()).size).toBe(names.length)
    expect(communityColours([...names].reverse())).toEqual(colours)
    // a name alone gets the colour its hash picks: the same on a page where it meets no collision
    expect(communityColours(['onap']).get('onap')).toBe(communityColours(['onap', 'tekton']).get('onap'))
  })

  it('names an origin without a trust name through the page, and marks outcomes', () => {
    const model = graphModel(GRAPH, nameOf)
    const d4 = model.nodes.find(n => n.id === 'd4')
    expect(d4?.community).toBe('peer 12D3…xxxx')
    expect(model.nodes.map(n => n.outcome)).toEqual(['none', 'none', 'failure', 'success', 'none', 'none'])
  })

  it('shows unresolved links grey, with what they name, and flags the edges that reach them', () => {
    const model = graphModel(GRAPH, nameOf)
    const unresolved = model.nodes.filter(n => !n.resolved)
    expect(unresolved.map(n => [n.detail, n.colour, n.community])).toEqual([
      ['event ctx-started from https://build.opnfv.org', UNRESOLVED_COLOUR, undefined],
      ['environment pod-1', UNRESOLVED_COLOUR, undefined]
    ])
    expect(unresolved.every(n => n.label.startsWith('unresolved'))).toBe(true)
    expect(model.edges.filter(e => e.unresolved).map(e => e.via)).toEqual(['END', 'environment'])
  })

  it('knows which artifact an artifact event is about, to link to its page', () => {
    expect(graphModel(GRAPH, nameOf).nodes.find(n => n.id === 'd2')?.entity).toEqual({ type: 'artifact', id: 'pkg:oci/so@sha256:ab' })
  })
  it('marks what "resolve from peers" fetched, and says what the resolution did', () => {
    const resolved: TraceGraph = {
      ...GRAPH,
      nodes: GRAPH.nodes.map(n => n.id === 'd4' ? { ...n, fetched: true } : n),
      resolution: {
        fetched: 1,
        peers: ['12D3KooWPeerA'],
        rounds: 2,
        unresolved: [{ kind: 'context', id: 'ctx-started', source: 'https://build.opnfv.org' }],
        refused: [{ from: '12D3KooWPeerA', code: 'CDG_UNTRUSTED_SIGNER' }, { from: '12D3KooWPeerB', code: 'CDG_INVALID_SIGNATURE' }],
        truncated: true
      }
    }
    const model = graphModel(resolved, nameOf)
    expect(model.nodes.filter(n => n.fetched).map(n => n.id)).toEqual(['d4'])
    expect(model.nodes.find(n => n.id === 'd4')?.label).toContain('(fetched from a peer)')
    expect(model.resolution).toBe('Resolved from peers: 1 event fetched from 1 peer in 2 rounds; 1 still unresolved (no peer answered); ' +
      '2 refused (CDG_UNTRUSTED_SIGNER, CDG_INVALID_SIGNATURE); stopped by a bound (references, rounds or time).')
    // without ?resolve=true there is nothing to say
    expect(graphModel(GRAPH, nameOf).resolution).toBeUndefined()
    expect(graphModel(GRAPH, nameOf).nodes.some(n => n.fetched)).toBe(false)
  })
})

describe('the artifact timeline', () => {
  it('puts every change, build, lifecycle event, test run and deployment in time order, untimed last', () => {
    const node = (id: string, eventClass: string, time?: string): ArtifactView['builds'][number] => ({ id, digest: id, resolved: true, eventClass, community: 'onap', subject: id, ...(time === undefined ? {} : { time }) })
    const view: ArtifactView = {
      purl: 'pkg:oci/so@sha256:ab',
      changes: [node('c', 'change.merged', '2026-01-01T00:00:00Z')],
      builds: [node('b', 'build.finished', '2026-01-01T00:01:00Z')],
      lifecycle: [node('a', 'artifact.published', '2026-01-01T00:02:00Z'), node('u', 'artifact.signed')],
      tests: [
        { digest: 't2', community: 'opnfv', origin: 'P1', suite: 'functest', eventClass: 'testsuiterun.finished', outcome: 'success', time: '2026-01-01T00:05:00Z' },
        { digest: 't1', community: PEER_C, origin: PEER_C, suite: 'smoke', eventClass: 'testsuiterun.finished', outcome: 'failure', environment: 'lab', time: '2026-01-01T00:03:00Z' }
      ],
      deployments: [{ digest: 'dep', community: 'tekton', origin: 'P2', eventClass: 'service.deployed', service: 'so', environment: 'staging', time: '2026-01-01T00:06:00Z' }],
      confidence: [],
      truncated: false
    }
    const rows = artifactTimeline(view, nameOf)
    expect(rows.map(r => `${r.kind} ${r.digest}`)).toEqual(['change c', 'build b', 'lifecycle a', 'test t1', 'test t2', 'deployment dep', 'lifecycle u'])
    expect(rows.find(r => r.digest === 't1')).toMatchObject({ community: 'peer 12D3…xxxx', what: 'smoke', outcome: 'failure', environment: 'lab' })
    expect(rows.find(r => r.digest === 'dep')).toMatchObject({ community: 'tekton', what: 'so', environment: 'staging' })
  })
})
