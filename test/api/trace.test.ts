import { describe, expect, it } from 'vitest'
import { publishAll, startNodes, waitFor } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'
import type { ArtifactView, TraceEdge, TraceGraph } from '../../src/contracts/trace.js'
import { A_SOURCE, B_SOURCE, linkedRelease } from '../trace/linked-chain.js'

/**
 * Traceability over REST with two real communities: alpha (A) builds and tests, beta (B) tests.
 * B does not subscribe to changes, so at B the build's link to the change is unresolved.
 */
async function twoCommunities (): Promise<[E2eNode, E2eNode]> {
  return await startNodes(2, {
    names: ['alpha', 'beta'],
    topology: 'line',
    configure: (config, { name, peerIds }) => {
      if (name === 'alpha') {
        config.trust.communities = [{ peerId: peerIds[1] as string, name: 'beta', sources: [B_SOURCE] }]
        config.subscriptions = [{ classes: ['testsuiterun.*'] }]
      } else {
        config.trust.communities = [{ peerId: peerIds[0] as string, name: 'alpha', sources: [A_SOURCE] }]
        config.subscriptions = [{ classes: ['build.*', 'artifact.*', 'testsuiterun.*'] }]
      }
    },
    meshClasses: ['testsuiterun.finished', 'artifact.published', 'build.finished']
  }) as [E2eNode, E2eNode]
}

async function get<T> (node: E2eNode, path: string): Promise<{ status: number, body: T }> {
  const res = await fetch(`${node.node.apiUrl}${path}`, { headers: { authorization: `Bearer ${node.token}` } })
  return { status: res.status, body: await res.json() as T }
}

function edge (graph: TraceGraph, from: string, to: string): TraceEdge[] {
  return graph.edges.filter(e => e.from === from && e.to === to)
}

describe('traceability API across two communities', () => {
  it('answers chains, traces and the artifact view from links and entity references', async () => {
    const [a, b] = await twoCommunities()
    const r = linkedRelease()
    const [change, build, artifact, testA] = (await publishAll(a.node, [r.change, r.build, r.artifact, r.testA])).map(x => x.digest) as [string, string, string, string]
    const [testBFailed, testBPassed] = (await publishAll(b.node, [r.testBFailed, r.testBPassed])).map(x => x.digest) as [string, string]
    await waitFor(async () => (await a.node.getEvent(testBPassed)) !== undefined && (await a.node.getEvent(testBFailed)) !== undefined, { message: 'A to store B\'s test runs' })
    await waitFor(async () => (await b.node.getEvent(testA)) !== undefined && (await b.node.getEvent(build)) !== undefined && (await b.node.getEvent(artifact)) !== undefined,
      { message: 'B to store A\'s build, artifact and test run' })

    // the chain at A: every event, with the edges the links and fields make
    const chainA = await get<TraceGraph>(a, `/v1/chains/${encodeURIComponent(r.chainId)}`)
    expect(chainA.status).toBe(200)
    expect(chainA.body.nodes.map(n => n.id).sort()).toEqual([change, build, artifact, testA, testBFailed, testBPassed].sort())
    expect(chainA.body.truncated).toBe(false)
    expect(edge(chainA.body, change, build)).toEqual([{ from: change, to: build, kind: 'path', via: 'PATH' }])
    expect(edge(chainA.body, build, artifact).map(e => `${e.kind}:${e.via}`).sort()).toEqual(['entity:artifactId', 'path:PATH'])
    expect(edge(chainA.body, artifact, testA)).toEqual([{ from: artifact, to: testA, kind: 'relation', via: 'ARTIFACT' }])
    expect(edge(chainA.body, artifact, testBFailed)).toEqual([{ from: artifact, to: testBFailed, kind: 'entity', via: 'customData.artifactId' }])
    expect(chainA.body.nodes.find(n => n.id === testBPassed)).toMatchObject({ resolved: true, community: 'beta', outcome: 'success', eventClass: 'testsuiterun.finished' })

    // at B the change is not held: the build's PATH link points at an unresolved node
    const chainB = await get<TraceGraph>(b, `/v1/chains/${encodeURIComponent(r.chainId)}`)
    expect(chainB.body.nodes.filter(n => n.resolved).map(n => n.id).sort()).toEqual([build, artifact, testA, testBFailed, testBPassed].sort())
    const unresolved = chainB.body.nodes.filter(n => !n.resolved)
    expect(unresolved).toEqual([{ id: `unresolved:context:${r.change.context.id}`, resolved: false, contextId: r.change.context.id }])
    expect(edge(chainB.body, unresolved[0]?.id ?? '', build)).toEqual([{ from: unresolved[0]?.id, to: build, kind: 'path', via: 'PATH' }])

    // upstream of B's test run that named the artifact only by purl: artifact, build, change
    const up = await get<TraceGraph>(a, `/v1/events/${testBFailed}/trace?direction=up`)
    expect(up.status).toBe(200)
    expect(up.body.root).toBe(testBFailed)
    expect(up.body.nodes.filter(n => n.resolved).map(n => n.id).sort()).toEqual([change, build, artifact, testBFailed].sort())
    // the test environment is named by id only: no environment event is held anywhere
    expect(up.body.nodes.filter(n => !n.resolved)).toEqual([{ id: 'unresolved:environment:qa', resolved: false, entity: { type: 'environment', id: 'qa' } }])
    expect(edge(up.body, 'unresolved:environment:qa', testBFailed)).toEqual([{ from: 'unresolved:environment:qa', to: testBFailed, kind: 'entity', via: 'environment' }])
    expect(edge(up.body, artifact, testBFailed)).toEqual([{ from: artifact, to: testBFailed, kind: 'entity', via: 'customData.artifactId' }])
    // depth bounds the walk: one step up reaches the artifact only
    const oneUp = await get<TraceGraph>(a, `/v1/events/${testBFailed}/trace?direction=up&depth=1`)
    expect(oneUp.body.nodes.filter(n => n.resolved).map(n => n.id).sort()).toEqual([artifact, testBFailed].sort())

    // downstream of the change: the build, the artifact and every test run
    const down = await get<TraceGraph>(a, `/v1/events/${change}/trace?direction=down`)
    expect(down.body.nodes.map(n => n.id).sort()).toEqual([change, build, artifact, testA, testBFailed, testBPassed].sort())
    expect((await get<TraceGraph>(a, `/v1/events/${change}/trace?direction=up`)).body.nodes.map(n => n.id)).toEqual([change, 'unresolved:repository:alpha/app'])

    // a deployment naming the artifact by artifactId only
    const [deploy] = (await publishAll(a.node, [r.deploy])).map(x => x.digest) as [string]

    // the artifact across both communities, and the quality stamp newest first
    const view = await get<ArtifactView>(a, `/v1/artifacts/${encodeURIComponent(r.purl)}`)
    expect(view.status).toBe(200)
    expect(view.body.lifecycle.map(n => n.id)).toEqual([artifact])
    expect(view.body.builds.map(n => n.id)).toEqual([build])
    expect(view.body.changes.map(n => n.id)).toEqual([change])
    expect(view.body.tests.map(t => [t.digest, t.community, t.suite, t.outcome])).toEqual([
      [testBPassed, 'beta', 'beta-integration', 'success'],
      [testBFailed, 'beta', 'beta-integration', 'failure'],
      [testA, 'self', 'alpha-unit', 'success']
    ])
    expect(view.body.deployments).toEqual([{ digest: deploy, community: 'self', origin: a.peerId, eventClass: 'service.deployed', service: 'service/app', environment: 'prod', time: r.deploy.context.timestamp }])
    expect(view.body.confidence).toEqual([
      { community: 'beta', passed: 1, failed: 1, latest: { outcome: 'success', suite: 'beta-integration', time: r.testBPassed.context.timestamp, digest: testBPassed } },
      { community: 'self', passed: 1, failed: 0, latest: { outcome: 'success', suite: 'alpha-unit', time: r.testA.context.timestamp, digest: testA } }
    ])
    // a node's own runs are `self`; at B, A's runs carry A's trust name
    const atB = await get<ArtifactView>(b, `/v1/artifacts/${encodeURIComponent(r.purl)}`)
    expect(atB.body.confidence.map(c => c.community)).toEqual(['self', 'alpha'])
    expect(atB.body.changes).toEqual([])
  })

  it('refuses bad trace parameters and answers 404 for an event not held', async () => {
    const [a] = await startNodes(1) as [E2eNode]
    expect((await get(a, `/v1/events/${'0'.repeat(64)}/trace`)).status).toBe(404)
    expect((await get(a, `/v1/events/${'0'.repeat(64)}/trace?depth=11`)).status).toBe(400)
    expect((await get(a, `/v1/events/${'0'.repeat(64)}/trace?direction=sideways`)).status).toBe(400)
    expect((await get(a, `/v1/events/${'0'.repeat(64)}/trace?resolve=maybe`)).status).toBe(400)
    expect((await get(a, `/v1/chains/c1?resolve=1&more=2`)).status).toBe(400)
    // alone, resolving finds nothing to fetch and says so
    const chain = await get<TraceGraph>(a, '/v1/chains/c1?resolve=true')
    expect(chain.body.resolution).toEqual({ fetched: 0, peers: [], rounds: 1, unresolved: [], refused: [], truncated: false })
    const empty = await get<ArtifactView>(a, `/v1/artifacts/${encodeURIComponent('pkg:npm/none@1.0.0')}`)
    expect(empty.body).toMatchObject({ purl: 'pkg:npm/none@1.0.0', lifecycle: [], tests: [], confidence: [] })
  })
})
