import { describe, expect, it } from 'vitest'
import { connect, FORGED_PREFIX, record, sha256Hex, startP2PNode, waitFor, waitForMesh, type TestNode } from '../helpers/p2p.js'
import { TopicValidatorResult, type PeerId } from '@libp2p/interface'
import type { ReceiveContext, ReceiveOutcome } from '../../src/p2p/index.js'

const PIPELINE = 'pipelinerun.finished'

/**
 * What gossipsub receives, sends and is told, seen from inside: it has no public count of what it
 * receives or sends. Two of its private methods are wrapped (they must exist, or the test fails
 * here rather than pass blind), and its public `reportMessageValidationResult`.
 */
interface GossipTraffic {
  /** [sender peer ID, message bytes] of every message received, duplicates included */
  received: Array<[string, Uint8Array]>
  /** [receiver peer ID, message bytes] of every message sent */
  sent: Array<[string, Uint8Array]>
  /** every verdict reported, in order */
  verdicts: TopicValidatorResult[]
}

type RpcMessage = { data?: Uint8Array }
interface GossipInternals {
  handleReceivedMessage: (from: PeerId, message: RpcMessage) => Promise<void>
  sendRpc: (to: string, rpc: { messages?: RpcMessage[] }) => boolean
}

function watchTraffic (node: TestNode): GossipTraffic {
  const pubsub = node.service.libp2p.services.pubsub as unknown as GossipInternals
  expect(typeof pubsub.handleReceivedMessage).toBe('function')
  expect(typeof pubsub.sendRpc).toBe('function')
  const traffic: GossipTraffic = { received: [], sent: [], verdicts: [] }
  const receive = pubsub.handleReceivedMessage.bind(pubsub)
  const send = pubsub.sendRpc.bind(pubsub)
  const gossipsub = node.service.libp2p.services.pubsub
  const report = gossipsub.reportMessageValidationResult.bind(gossipsub)
  gossipsub.reportMessageValidationResult = (msgId, propagationSource, verdict) => {
    report(msgId, propagationSource, verdict)
    traffic.verdicts.push(verdict)
  }
  pubsub.handleReceivedMessage = async (from, message) => {
    if (message.data !== undefined) traffic.received.push([from.toString(), message.data])
    await receive(from, message)
  }
  pubsub.sendRpc = (to, rpc) => {
    for (const message of rpc.messages ?? []) if (message.data !== undefined) traffic.sent.push([to, message.data])
    return send(to, rpc)
  }
  return traffic
}

/** Holds the node's receive path until released: the record is "still being checked". */
function holdReceive (node: TestNode): { release: () => void, held: () => number } {
  const { records } = node
  const receive = records.receiveRecord.bind(records)
  let release = (): void => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  let held = 0
  records.receiveRecord = async (bytes: Uint8Array, context: ReceiveContext): Promise<ReceiveOutcome> => {
    held++
    await released
    return await receive(bytes, context)
  }
  return { release, held: () => held }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

describe('topic validation after gossipsub caches a message', () => {
  it('does not send a record back to a peer that sent it while it was being checked', async () => {
    const a = await startP2PNode({ name: 'a', classes: [PIPELINE] })
    const b = await startP2PNode({ name: 'b', classes: [PIPELINE] })
    const c = await startP2PNode({ name: 'c', classes: [PIPELINE] })
    await connect(a, b)
    await connect(a, c)
    await connect(b, c)
    await waitForMesh([a, b, c], PIPELINE)
    const atC = watchTraffic(c)
    const checkAtC = holdReceive(c)

    // A floods to B and C; B checks it at once and forwards it to C, which is still checking
    const bytes = record('pipeline run 12 finished')
    await a.service.publish(PIPELINE, bytes)
    await waitFor(() => b.records.stored.has(sha256Hex(bytes)), { message: 'B to store the record' })
    const fromPeers = (): string[] => atC.received.filter(([, data]) => sameBytes(data, bytes)).map(([from]) => from)
    await waitFor(() => fromPeers().length === 2, { message: 'C to receive the record from A and from B' })
    expect(fromPeers().sort()).toEqual([a.service.peerId, b.service.peerId].sort())
    expect(checkAtC.held()).toBe(1)
    expect(c.records.stored.size).toBe(0)

    checkAtC.release()
    await waitFor(() => atC.verdicts.length === 1, { message: 'C to report its verdict' })
    expect(atC.verdicts).toEqual([TopicValidatorResult.Accept])
    // A sent it, B sent it meanwhile: C forwards it to neither, and checked it once
    expect(atC.sent.filter(([, data]) => sameBytes(data, bytes))).toEqual([])
    expect(c.records.callsFor(sha256Hex(bytes))).toBe(1)
  })

  it('forwards only after the check, and never a record the check refused', async () => {
    // a line, B being C's only way to A: one connection is their target, so peer exchange adds none
    const a = await startP2PNode({ name: 'a', classes: [PIPELINE], targetConnections: 1 })
    const b = await startP2PNode({ name: 'b', classes: [PIPELINE] })
    const c = await startP2PNode({ name: 'c', classes: [PIPELINE], targetConnections: 1 })
    await connect(a, b)
    await connect(b, c)
    await waitForMesh([a, b, c], PIPELINE)
    const atB = watchTraffic(b)
    const checkAtB = holdReceive(b)

    const forged = record(`${FORGED_PREFIX}pipeline run 13 finished`)
    const good = record('pipeline run 14 finished')
    await a.service.publish(PIPELINE, forged)
    await a.service.publish(PIPELINE, good)
    await waitFor(() => checkAtB.held() === 2, { message: 'B to start checking both records' })
    // cached by gossipsub, but nothing forwarded while B checks
    expect(atB.sent.filter(([, data]) => sameBytes(data, good) || sameBytes(data, forged))).toEqual([])
    checkAtB.release()
    await waitFor(() => c.records.stored.has(sha256Hex(good)), { message: 'C to get the record through B' })
    await waitFor(() => atB.verdicts.length === 2, { message: 'B to report both verdicts' })
    expect([...atB.verdicts].sort()).toEqual([TopicValidatorResult.Accept, TopicValidatorResult.Reject].sort())
    expect(atB.sent.filter(([, data]) => sameBytes(data, good)).map(([to]) => to)).toEqual([c.service.peerId])
    // the forgery was refused: it went nowhere
    expect(atB.sent.filter(([, data]) => sameBytes(data, forged))).toEqual([])
    expect(c.records.callsFor(sha256Hex(forged))).toBe(0)
  })
})
