import { describe, expect, it } from 'vitest'
import { allEvents, publishAll, startNodes, waitFor } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'
import { A_SOURCE, B_SOURCE, linkedRelease } from '../trace/linked-chain.js'
import { fetchProtocol, MAX_FETCH_RECORDS, MAX_FETCH_REFS } from '../../src/p2p/fetch/index.js'
import { decodeResponseFrame, encodeEnd, encodeRecord, MAX_FRAME_BYTES } from '../../src/p2p/sync/protocol.js'
import { toFrameStream } from '../../src/p2p/sync/stream-adapter.js'
import type { Frame } from '../../src/p2p/sync/stream-adapter.js'
import { encodeFetchRequest } from '../../src/p2p/fetch/protocol.js'
import type { ArtifactView, TraceGraph } from '../../src/contracts/trace.js'
import type { StoredEvent } from '../../src/events/records.js'
import { main } from '../../src/cli/index.js'

/**
 * `?resolve=true` with real nodes: the viewing node does not subscribe to the classes (or hold
 * the events) a trace links to, fetches them from peers over the fetch protocol, and keeps them
 * as fetched-for-trace: traceable, never delivered.
 */

async function get<T> (node: E2eNode, path: string): Promise<{ status: number, body: T }> {
  const res = await fetch(`${node.node.apiUrl}${path}`, { headers: { authorization: `Bearer ${node.token}` } })
  return { status: res.status, body: await res.json() as T }
}

/** Every record the node hands to delivery (subscriptions' sinks and streams read exactly these). */
function storedLog (node: E2eNode): string[] {
  const seen: string[] = []
  node.node.onStored(stored => { seen.push(stored.event.digest) })
  return seen
}

const PROTOCOL = fetchProtocol('e2e')

/** Replaces a node's fetch handler with one that reads the request and answers `frames`. */
async function answerWith (node: E2eNode, frames: () => Frame[]): Promise<void> {
  const libp2p = node.node.p2p.libp2p
  await libp2p.unhandle(PROTOCOL)
  await libp2p.handle(PROTOCOL, ({ stream }) => {
    const s = toFrameStream(stream, { maxFrameBytes: MAX_FRAME_BYTES })
    void (async () => {
      await s.read()
      await s.writeAll(frames())
      await s.close()
    })().catch(() => {})
  }, { maxInboundStreams: 4 })
}

/** The record's wire bytes with its CDEvent changed after signing: the signature no longer holds. */
function tampered (stored: StoredEvent): Uint8Array {
  const wire = JSON.parse(new TextDecoder().decode(stored.event.bytes)) as Record<string, string>
  const cdevent = JSON.parse(Buffer.from(wire.data_base64 as string, 'base64').toString('utf8')) as { subject: { id: string } }
  cdevent.subject.id += '-forged'
  wire.data_base64 = Buffer.from(JSON.stringify(cdevent)).toString('base64')
  return new TextEncoder().encode(JSON.stringify(wire))
}

describe('resolving unresolved trace links from peers', () => {
  it('fetches, verifies and keeps as fetched-for-trace what the viewing node does not hold, and never delivers it', async () => {
    // alpha builds and tests, beta tests, gamma only watches test runs
    const [alpha, beta, gamma] = await startNodes(3, {
      names: ['alpha', 'beta', 'gamma'],
      topology: 'full',
      configure: (config, { name, peerIds }) => {
        const alphaEntry = { peerId: peerIds[0] as string, name: 'alpha', sources: [A_SOURCE] }
        const betaEntry = { peerId: peerIds[1] as string, name: 'beta', sources: [B_SOURCE] }
        config.sync.intervalSeconds = 1
        if (name === 'alpha') {
          config.trust.communities = [betaEntry]
          config.subscriptions = [{ classes: ['change.*', 'build.*', 'artifact.*', 'testsuiterun.*'] }]
        } else if (name === 'beta') {
          config.trust.communities = [alphaEntry]
          config.subscriptions = [{ classes: ['testsuiterun.*'] }]
        } else {
          config.trust.communities = [alphaEntry, betaEntry]
          config.subscriptions = [{ classes: ['testsuiterun.*'] }]
        }
      },
      meshClasses: ['testsuiterun.finished']
    }) as [E2eNode, E2eNode, E2eNode]
    const delivered = storedLog(gamma)
    const r = linkedRelease()
    const [change, build, artifact, testA] = (await publishAll(alpha.node, [r.change, r.build, r.artifact, r.testA])).map(x => x.digest) as [string, string, string, string]
    const [, testBPassed] = (await publishAll(beta.node, [r.testBFailed, r.testBPassed])).map(x => x.digest) as [string, string]
    await waitFor(async () => (await gamma.node.getEvent(testA)) !== undefined && (await gamma.node.getEvent(testBPassed)) !== undefined,
      { message: 'gamma to store the test runs' })

    // without resolve: the artifact the test runs link to is not held
    const plain = await get<TraceGraph>(gamma, `/v1/events/${testBPassed}/trace?direction=up`)
    expect(plain.body.resolution).toBeUndefined()
    expect(plain.body.nodes.filter(n => !n.resolved).map(n => n.id)).toContain(`unresolved:context:${r.artifact.context.id}`)
    expect(plain.body.nodes.some(n => n.id === artifact)).toBe(false)

    // with resolve: the artifact, then the build and the change upstream of it, from alpha
    const resolved = await get<TraceGraph>(gamma, `/v1/events/${testBPassed}/trace?direction=up&resolve=true`)
    expect(resolved.status).toBe(200)
    const fetchedIds = resolved.body.nodes.filter(n => n.fetched === true).map(n => n.id).sort()
    expect(fetchedIds).toEqual([change, build, artifact].sort())
    expect(resolved.body.nodes.filter(n => !n.resolved && n.contextId !== undefined)).toEqual([])
    expect(resolved.body.edges).toContainEqual({ from: artifact, to: testBPassed, kind: 'relation', via: 'ARTIFACT' })
    expect(resolved.body.edges).toContainEqual({ from: change, to: build, kind: 'path', via: 'PATH' })
    expect(resolved.body.resolution).toMatchObject({ fetched: 3, peers: [alpha.peerId], refused: [] })
    expect(resolved.body.resolution?.rounds).toBeGreaterThanOrEqual(2)
    // the environment `qa` is an entity no node holds an event of: it stays unresolved, and says so
    expect(resolved.body.resolution?.unresolved).toContainEqual({ kind: 'entity', type: 'environment', id: 'qa' })

    // held: by digest and in every later trace, still marked fetched, without asking again
    expect((await gamma.node.getEvent(change))?.event.digest).toBe(change)
    const chain = await get<TraceGraph>(gamma, `/v1/chains/${encodeURIComponent(r.chainId)}`)
    expect(chain.body.nodes.filter(n => n.fetched === true).map(n => n.id).sort()).toEqual([change, build, artifact].sort())
    const view = await get<ArtifactView>(gamma, `/v1/artifacts/${encodeURIComponent(r.purl)}`)
    expect(view.body.lifecycle.map(n => [n.id, n.fetched])).toEqual([[artifact, true]])
    expect(view.body.builds.map(n => n.id)).toEqual([build])
    // the CLI marks them too
    const out: string[] = []
    expect(await main(['trace', r.chainId, '--resolve', '--api-url', gamma.node.apiUrl, '--token', gamma.token], l => { out.push(...l.split('\n')) }, () => {})).toBe(0)
    expect(out.filter(l => l.includes('(fetched)')).length).toBe(3)
    expect(out.at(-1)).toMatch(/^resolve: 0 fetched in 1 round\(s\)/)

    // never delivered: not handed to subscriptions or streams, not in the node's event list
    expect(delivered).not.toContain(change)
    expect(delivered).not.toContain(build)
    expect(delivered).not.toContain(artifact)
    expect((await allEvents(gamma.node)).map(s => s.event.digest)).not.toContain(artifact)
    const info = await gamma.node.info()
    expect(info.counters['received.fetch.stored']).toBe(3)
    expect(info.counters['fetch.requested']).toBeGreaterThan(0)
    expect((await alpha.node.info()).counters['fetch.served']).toBeGreaterThan(0)

    // the artifact view resolves too: at beta, which holds only test runs, the purl brings the
    // artifact and its build, and following their links the change
    const stamp = await get<ArtifactView>(beta, `/v1/artifacts/${encodeURIComponent(r.purl)}?resolve=true`)
    expect(stamp.body.lifecycle.map(n => [n.id, n.fetched])).toEqual([[artifact, true]])
    expect(stamp.body.builds.map(n => [n.id, n.fetched])).toEqual([[build, true]])
    expect(stamp.body.changes.map(n => [n.id, n.fetched])).toEqual([[change, true]])
    expect(stamp.body.confidence.map(c => c.community).sort()).toEqual(['alpha', 'self'])
    expect(stamp.body.resolution?.fetched).toBe(3)

    // sync is not fooled: a subscription to artifacts added now fetches the artifact as any record,
    // and delivers it (the fetched copy never entered the sequences sync compares)
    const { status } = await gamma.api().request('POST', '/v1/subscriptions', { json: { classes: ['artifact.*'], start: { kind: 'beginning' } } })
    expect(status).toBe(201)
    await waitFor(() => delivered.includes(artifact), { timeout: 20_000, message: 'sync to fetch and deliver the artifact' })
    expect((await allEvents(gamma.node)).map(s => s.event.digest)).toContain(artifact)
  })

  it('refuses forged, unrequested, oversized and untrusted answers, and keeps nothing of them', async () => {
    // alpha – mallory – gamma: gamma reaches alpha's records only through mallory
    const [alpha, mallory, gamma] = await startNodes(3, {
      names: ['alpha', 'mallory', 'gamma'],
      topology: 'line',
      configure: (config, { name, peerIds }) => {
        config.p2p.targetConnections = 1
        config.trust.communities = name === 'alpha' ? [] : [{ peerId: peerIds[0] as string, name: 'alpha', sources: [A_SOURCE] }]
        config.subscriptions = [{ classes: name === 'gamma' ? ['build.*'] : ['change.*', 'build.*', 'artifact.*'] }]
      },
      meshClasses: ['build.finished']
    }) as [E2eNode, E2eNode, E2eNode]
    const r = linkedRelease()
    const [change, build, artifact] = (await publishAll(alpha.node, [r.change, r.build, r.artifact])).map(x => x.digest) as [string, string, string]
    await waitFor(async () => (await gamma.node.getEvent(build)) !== undefined && (await mallory.node.getEvent(artifact)) !== undefined,
      { message: 'gamma to store the build, mallory everything' })
    const genuine = await mallory.node.getEvent(change) as StoredEvent
    const unrequested = await mallory.node.getEvent(artifact) as StoredEvent
    const resolveBuild = async (): Promise<TraceGraph> =>
      (await get<TraceGraph>(gamma, `/v1/events/${build}/trace?direction=up&resolve=true`)).body
    const changeRef = { kind: 'context', id: r.change.context.id }

    // a forged record: refused for its signature, nothing kept
    await answerWith(mallory, () => [encodeRecord(tampered(genuine)), encodeEnd(1, false)])
    const forged = await resolveBuild()
    expect(forged.resolution).toMatchObject({ fetched: 0, unresolved: [changeRef], refused: [{ from: mallory.peerId, code: 'CDG_BAD_SIGNATURE' }] })
    expect(await gamma.node.getEvent(change)).toBeUndefined()

    // a genuine record nobody asked for: refused as a protocol violation
    await answerWith(mallory, () => [encodeRecord(unrequested.event.bytes), encodeEnd(1, false)])
    const extra = await resolveBuild()
    expect(extra.resolution).toMatchObject({ fetched: 0, refused: [{ from: mallory.peerId, code: 'CDG_SYNC_PROTOCOL' }] })
    expect(await gamma.node.getEvent(artifact)).toBeUndefined()

    // an answer above the record bound: cut off, nothing kept
    const failedBefore = (await gamma.node.info()).counters['fetch.failed'] ?? 0
    await answerWith(mallory, () => [...Array.from({ length: MAX_FETCH_RECORDS + 1 }, () => encodeRecord(genuine.event.bytes)), encodeEnd(MAX_FETCH_RECORDS + 1, false)])
    const flood = await resolveBuild()
    expect(flood.resolution?.fetched).toBe(0)
    expect((await gamma.node.info()).counters['fetch.failed']).toBeGreaterThan(failedBefore)

    // a genuine record of a signer gamma no longer trusts: refused by policy, not stored
    await answerWith(mallory, () => [encodeRecord(genuine.event.bytes), encodeEnd(1, false)])
    expect(await gamma.node.removeTrust('alpha')).toBe(true)
    const untrusted = await resolveBuild()
    expect(untrusted.resolution).toMatchObject({ fetched: 0, unresolved: [changeRef], refused: [{ from: mallory.peerId, code: 'CDG_UNTRUSTED_FORWARDED', origin: alpha.peerId }] })
    expect(await gamma.node.getEvent(change)).toBeUndefined()

    // and as a server: a request over the reference bound is answered `invalid`
    const raw = await mallory.node.p2p.libp2p.dialProtocol(gamma.node.p2p.libp2p.peerId, PROTOCOL)
    const s = toFrameStream(raw, { maxFrameBytes: MAX_FRAME_BYTES })
    const tooMany = Array.from({ length: MAX_FETCH_REFS + 1 }, (_, i) => ({ kind: 'context' as const, id: `id-${i}` }))
    await s.writeAll([encodeFetchRequest(tooMany)])
    const answer = await s.read()
    expect(answer === undefined ? undefined : decodeResponseFrame(answer)).toEqual({ type: 'error', reason: 'invalid' })
    await s.close()
    expect((await gamma.node.info()).counters['fetch.refusedInvalid']).toBe(1)
  })
})
