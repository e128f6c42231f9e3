import { describe, expect, it } from 'vitest'
import { MAX_INBOUND_DATA_LENGTH, MAX_RECORD_BYTES } from '../../src/p2p/index.js'
import { connect, FORGED_PREFIX, record, sha256Hex, startP2PNode, TEST_NETWORK, waitFor, waitForMesh } from '../helpers/p2p.js'
import type { TestNode } from '../helpers/p2p.js'

const PIPELINE = 'pipelinerun.finished'
const TOPIC = `cdgossip/${TEST_NETWORK}/${PIPELINE}`

/** Publish through gossipsub directly, skipping every check P2PService makes: what a hostile node does. */
async function rawPublish (node: TestNode, topic: string, bytes: Uint8Array): Promise<void> {
  await node.service.libp2p.services.pubsub.publish(topic, bytes)
}

function scoreAt (receiver: TestNode, peer: TestNode): number {
  return receiver.service.libp2p.services.pubsub.getScore(peer.service.peerId)
}

describe('hostile peers', () => {
  it('rejects forged and oversize records, scores their senders negative, and keeps valid records flowing', async () => {
    const receiver = await startP2PNode({ name: 'receiver', classes: [PIPELINE] })
    // each keeps its one link to the receiver: peer exchange must not connect them to each other
    const honest = await startP2PNode({ name: 'honest', classes: [PIPELINE], targetConnections: 1 })
    const forger = await startP2PNode({ name: 'forger', classes: [PIPELINE], targetConnections: 1 })
    const bloater = await startP2PNode({ name: 'bloater', classes: [PIPELINE], targetConnections: 1 })
    for (const peer of [honest, forger, bloater]) await connect(peer, receiver)
    await waitForMesh([receiver, honest, forger, bloater], PIPELINE)

    for (let i = 0; i < 3; i++) await rawPublish(forger, TOPIC, record(`${FORGED_PREFIX} record ${i}`))
    const oversize = record('too big', MAX_RECORD_BYTES + 1)
    await rawPublish(bloater, TOPIC, oversize)

    await waitFor(() => scoreAt(receiver, forger) < 0 && scoreAt(receiver, bloater) < 0, {
      message: 'the forger and the bloater to score negative at the receiver'
    })
    const received = receiver.service.counters().received
    expect(received['reject:CDG_BAD_SIGNATURE']).toBeGreaterThanOrEqual(1)
    expect(received['reject:CDG_EVENT_TOO_LARGE']).toBe(1)
    // forgeries reached the receive path and were refused there; the oversize record never did
    expect(receiver.records.calls.some((c) => c.context.from === forger.service.peerId)).toBe(true)
    expect(receiver.records.callsFor(sha256Hex(oversize))).toBe(0)
    expect(receiver.records.calls.every((c) => c.bytes.byteLength <= MAX_RECORD_BYTES)).toBe(true)
    expect(receiver.records.stored.size).toBe(0)

    const valid = record('a valid pipeline record')
    expect((await honest.service.publish(PIPELINE, valid)).recipients).toBeGreaterThanOrEqual(1)
    await waitFor(() => receiver.records.stored.has(sha256Hex(valid)), { message: 'the receiver to store the valid record' })
    const back = record('a valid record from the receiver')
    await receiver.service.publish(PIPELINE, back)
    await waitFor(() => honest.records.stored.has(sha256Hex(back)), { message: 'the honest peer to store the receiver\'s record' })
    expect(scoreAt(receiver, honest)).toBeGreaterThanOrEqual(0)
    // rejected records stop at the receiver: the honest peer only ever saw the valid one
    expect(honest.records.calls.map((c) => c.digest)).toEqual([sha256Hex(back)])
  })

  it('hangs up on a peer whose oversize frame made gossipsub drop it', async () => {
    const receiver = await startP2PNode({ name: 'receiver', classes: [PIPELINE] })
    const hostile = await startP2PNode({ name: 'hostile', classes: [PIPELINE] })
    await connect(hostile, receiver)
    await waitForMesh([receiver, hostile], PIPELINE)

    await rawPublish(hostile, TOPIC, new Uint8Array(MAX_INBOUND_DATA_LENGTH + 1))
    const gossipPeers = (): string[] => receiver.service.libp2p.services.pubsub.getPeers().map(String)
    const connected = (): boolean => receiver.service.peers().some((p) => p.peerId === hostile.service.peerId)
    // the stall the watchdog exists for: connected, but gone from gossipsub
    await waitFor(() => !gossipPeers().includes(hostile.service.peerId) && connected(), {
      message: 'gossipsub to drop the hostile peer while the connection stays'
    })
    // peer exchange redials at once, so "hung up" shows as a connection that is gone or newer
    const since = (): string | undefined => receiver.service.peers().find((p) => p.peerId === hostile.service.peerId)?.connectedSince
    const stalled = since()
    expect(stalled).toBeDefined()
    await waitFor(() => since() !== stalled, { message: 'the watchdog to hang up on the hostile peer' })
    await waitFor(() => gossipPeers().includes(hostile.service.peerId), { message: 'the hostile peer to come back to gossipsub on a new connection' })
    expect(receiver.records.calls).toHaveLength(0)
  })

  it('tracks subscriptions only for this network\'s topics', async () => {
    const receiver = await startP2PNode({ name: 'receiver', classes: [PIPELINE] })
    const other = await startP2PNode({ name: 'other', classes: [PIPELINE] })
    const foreign = [`cdgossip/othernet/${PIPELINE}`, 'cdgossip/testnet/not-a-class', 'something/else']
    for (const topic of foreign) other.service.libp2p.services.pubsub.subscribe(topic)
    await connect(other, receiver)
    await waitFor(() => receiver.service.subscribers(PIPELINE).includes(other.service.peerId), {
      message: 'the receiver to learn the other node\'s subscriptions'
    })
    for (const topic of foreign) expect(receiver.service.libp2p.services.pubsub.getSubscribers(topic)).toEqual([])
  })
})
