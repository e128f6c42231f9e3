import { describe, expect, it, vi } from 'vitest'
import { MAX_RECORD_BYTES, P2PService } from '../../src/p2p/index.js'
import { connect, connectLine, record, sha256Hex, startP2PNode, TEST_NETWORK, TestRecords, waitFor, waitForMesh } from '../helpers/p2p.js'
import { generateKeyPair } from '@libp2p/crypto/keys'

const PIPELINE = 'pipelinerun.finished'
const BUILD = 'build.finished'

describe('gossip between real nodes on 127.0.0.1', () => {
  it('carries A\'s record to C through B, which only relays the class', async () => {
    // one connection is their target: peer exchange must not link A and C directly
    const a = await startP2PNode({ name: 'a', classes: [PIPELINE], targetConnections: 1 })
    const b = await startP2PNode({ name: 'b', relayClasses: [PIPELINE] })
    const c = await startP2PNode({ name: 'c', classes: [PIPELINE], targetConnections: 1 })
    await connectLine([a, b, c])
    await waitForMesh([a, b, c], PIPELINE)

    const bytes = record('pipeline run 1 finished')
    const { recipients } = await a.service.publish(PIPELINE, bytes)
    expect(recipients).toBe(1)

    await waitFor(() => c.records.stored.has(sha256Hex(bytes)), { message: 'C to store A\'s record' })
    const atC = c.records.stored.get(sha256Hex(bytes))
    expect(atC?.context).toEqual({ expectedClass: PIPELINE, from: b.service.peerId, via: 'gossip' })
    expect(b.records.stored.size).toBe(0)
    expect(b.service.counters().received).toEqual({ relayed: 1 })
    expect(c.service.counters().received).toEqual({ stored: 1 })
    expect(a.service.counters()).toEqual({ published: 1, received: {} })
    // the publisher never hands its own record to its receive path
    expect(a.records.calls).toHaveLength(0)
  })

  it('gives a node nothing of a class it did not join', async () => {
    const a = await startP2PNode({ name: 'a', classes: [PIPELINE, BUILD] })
    const b = await startP2PNode({ name: 'b', classes: [PIPELINE, BUILD] })
    const c = await startP2PNode({ name: 'c', classes: [PIPELINE] })
    await connectLine([a, b, c])
    await waitForMesh([a, b, c], PIPELINE)
    await waitForMesh([a, b], BUILD)
    expect(a.service.subscribers(BUILD)).toEqual([b.service.peerId])
    expect(b.service.subscribers(BUILD)).toEqual([a.service.peerId])

    const build = record('build 7 finished')
    const pipeline = record('pipeline 7 finished')
    await a.service.publish(BUILD, build)
    await a.service.publish(PIPELINE, pipeline)
    // B forwards in arrival order, so once C has the later record it was never sent the other
    await waitFor(() => c.records.stored.has(sha256Hex(pipeline)), { message: 'C to store the pipeline record' })
    await waitFor(() => b.records.stored.has(sha256Hex(build)), { message: 'B to store the build record' })
    expect(c.records.calls.map((r) => r.context.expectedClass)).toEqual([PIPELINE])
    expect(c.service.peers().find((p) => p.peerId === b.service.peerId)?.topics)
      .toEqual([`cdgossip/${TEST_NETWORK}/${PIPELINE}`])
  })

  it('leaves the topics setClasses no longer names, and stops receiving them', async () => {
    const a = await startP2PNode({ name: 'a', classes: [PIPELINE, BUILD] })
    const b = await startP2PNode({ name: 'b', classes: [PIPELINE, BUILD] })
    await connect(a, b)
    await waitForMesh([a, b], BUILD)
    expect(b.service.topics().sort()).toEqual([`cdgossip/${TEST_NETWORK}/${BUILD}`, `cdgossip/${TEST_NETWORK}/${PIPELINE}`])

    b.service.setClasses([PIPELINE])
    expect(b.service.topics()).toEqual([`cdgossip/${TEST_NETWORK}/${PIPELINE}`])
    // gossipsub checks nothing inline: every verdict comes from topic-validation.ts, after the message is cached
    expect(b.service.libp2p.services.pubsub.topicValidators.size).toBe(0)
    await waitFor(() => a.service.subscribers(BUILD).length === 0, { message: 'A to learn B left the build topic' })
    expect(a.service.subscribers(PIPELINE)).toEqual([b.service.peerId])

    await expect(a.service.publish(BUILD, record('build after leave'))).resolves.toEqual({ recipients: 0 })
    const pipeline = record('pipeline after leave')
    await a.service.publish(PIPELINE, pipeline)
    await waitFor(() => b.records.stored.has(sha256Hex(pipeline)), { message: 'B to keep receiving pipeline records' })
    expect(b.records.calls.map((r) => r.context.expectedClass)).toEqual([PIPELINE])
  })

  it('publishes a class it has not joined to the peers that did (fanout)', async () => {
    const a = await startP2PNode({ name: 'a', classes: [] })
    const b = await startP2PNode({ name: 'b', classes: [BUILD] })
    await connect(a, b)
    await waitFor(() => a.service.subscribers(BUILD).length === 1, { message: 'A to learn B\'s subscription' })
    const bytes = record('fanout build')
    expect(await a.service.publish(BUILD, bytes)).toEqual({ recipients: 1 })
    await waitFor(() => b.records.stored.has(sha256Hex(bytes)), { message: 'B to store the fanout record' })
    expect(a.service.topics()).toEqual([])
  })

  it('resolves recipients 0 when nobody listens, and republishing the same bytes is harmless', async () => {
    const a = await startP2PNode({ name: 'a', classes: [PIPELINE] })
    const gossipsubPublish = vi.spyOn(a.service.libp2p.services.pubsub, 'publish')
    expect(a.service.peers()).toEqual([])
    await expect(a.service.publish(PIPELINE, record('alone'))).resolves.toEqual({ recipients: 0 })

    const b = await startP2PNode({ name: 'b', classes: [PIPELINE] })
    await connect(a, b)
    await waitForMesh([a, b], PIPELINE)
    // a connected peer that does not subscribe to a class gets no message of it: none is built
    await expect(a.service.publish(BUILD, record('nobody builds'))).resolves.toEqual({ recipients: 0 })
    expect(gossipsubPublish).not.toHaveBeenCalled()

    const bytes = record('twice')
    expect(await a.service.publish(PIPELINE, bytes)).toEqual({ recipients: 1 })
    expect(await a.service.publish(PIPELINE, bytes)).toEqual({ recipients: 0 })
    expect(gossipsubPublish).toHaveBeenCalledTimes(2)
    expect(a.service.counters().published).toBe(4)
  })

  it('refuses an oversize record before gossiping it', async () => {
    const a = await startP2PNode({ name: 'a', classes: [PIPELINE] })
    await expect(a.service.publish(PIPELINE, new Uint8Array(MAX_RECORD_BYTES + 1)))
      .rejects.toMatchObject({ code: 'CDG_EVENT_TOO_LARGE', name: 'RecordTooLargeError' })
    await expect(a.service.publish('not a class', record('x'))).rejects.toMatchObject({ code: 'CDG_INVALID_REQUEST' })
    expect(() => { a.service.setClasses([PIPELINE, 'no/slashes']) }).toThrow(expect.objectContaining({ code: 'CDG_INVALID_REQUEST' }))
    // a refused setClasses changes nothing
    expect(a.service.topics()).toEqual([`cdgossip/${TEST_NETWORK}/${PIPELINE}`])
    expect(a.service.counters().published).toBe(0)
  })
})

describe('P2PService lifecycle', () => {
  it('starts and stops idempotently, and restarts with the same identity', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const service = new P2PService(new TestRecords(new Set()), {
      network: TEST_NETWORK,
      privateKey,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      heartbeatIntervalMs: 100
    })
    expect(service.status).toBe('stopped')
    expect(() => service.libp2p).toThrow(expect.objectContaining({ code: 'CDG_NOT_STARTED' }))
    await expect(service.publish(PIPELINE, record('x'))).rejects.toMatchObject({ code: 'CDG_NOT_STARTED' })
    expect(service.multiaddrs()).toEqual([])

    service.setClasses([PIPELINE])
    await Promise.all([service.start(), service.start()])
    expect(service.status).toBe('started')
    expect(service.libp2p.peerId.toString()).toBe(service.peerId)
    expect(service.multiaddrs()[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${service.peerId}$`))
    expect(service.topics()).toEqual([`cdgossip/${TEST_NETWORK}/${PIPELINE}`])

    await service.stop()
    await service.stop()
    expect(service.status).toBe('stopped')
    expect(service.topics()).toEqual([])

    await service.start()
    expect(service.topics()).toEqual([`cdgossip/${TEST_NETWORK}/${PIPELINE}`])
    expect(service.libp2p.peerId.toString()).toBe(service.peerId)
    await service.stop()
  })

  it('refuses unusable configuration with CDG_CONFIG', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const records = new TestRecords(new Set())
    const make = (init: Partial<ConstructorParameters<typeof P2PService>[1]>): P2PService =>
      new P2PService(records, { network: TEST_NETWORK, privateKey, ...init })
    expect(() => make({ network: 'Has/Slash' })).toThrow(expect.objectContaining({ code: 'CDG_CONFIG' }))
    expect(() => make({ bootstrap: ['/ip4/127.0.0.1/tcp/4001'] })).toThrow(expect.objectContaining({ code: 'CDG_CONFIG' }))
    expect(() => make({ listen: ['not a multiaddr'] })).toThrow(expect.objectContaining({ code: 'CDG_CONFIG' }))
    expect(() => make({ relayClasses: ['nope'] })).toThrow(expect.objectContaining({ code: 'CDG_CONFIG' }))
    expect(() => make({ heartbeatIntervalMs: 0 })).toThrow(expect.objectContaining({ code: 'CDG_CONFIG' }))
    expect(() => make({ ipColocationWeight: 1 })).toThrow(expect.objectContaining({ code: 'CDG_CONFIG' }))
    expect(make({}).status).toBe('stopped')
  })

  it('reports each new peer connection to onPeerConnected listeners', async () => {
    const a = await startP2PNode({ name: 'a' })
    const b = await startP2PNode({ name: 'b' })
    const seen: string[] = []
    const off = a.service.onPeerConnected((peerId) => { seen.push(peerId) })
    await connect(b, a)
    await waitFor(() => seen.length === 1, { message: 'A to report B' })
    expect(seen).toEqual([b.service.peerId])
    off()
    await expect(a.service.dial('garbage')).rejects.toMatchObject({ code: 'CDG_INVALID_REQUEST' })
  })
})
