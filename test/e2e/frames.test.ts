import { describe, expect, it } from 'vitest'
import { dataDirPaths } from '../../src/data-dir.js'
import { encodeRecordFrame, FRAME_MAGIC, MAX_FRAME_BYTES } from '../../src/p2p/index.js'
import { loadOrCreateIdentity } from '../../src/signing/index.js'
import type { Signer } from '../../src/signing/index.js'
import { sha256Hex, startP2PNode } from '../helpers/p2p.js'
import type { TestNode } from '../helpers/p2p.js'
import { allEvents, artifactPublished, E2E_NETWORK, publishAll, startNodes, waitFor } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'
import type { NodeInfo } from '../../src/api/types.js'
import { signRecord, signRecordAs } from '../helpers/records.js'
import { newSigner } from '../signing/fixtures.js'

const CLASS = 'artifact.published'
const TOPIC = `cdgossip/${E2E_NETWORK}/${CLASS}`
const ORIGIN_SOURCE = 'https://ci.origin.example/jenkins'
/** a source the origin signs for that the victim's trust entry for it does not cover */
const OTHER_SOURCE = 'https://builds.origin.example/tekton'

/** origin – victim; the victim trusts the origin for ORIGIN_SOURCE only and keeps every artifact. */
async function originAndVictim (): Promise<[E2eNode, E2eNode, Signer]> {
  const [origin, victim] = await startNodes(2, {
    names: ['origin', 'victim'],
    topology: 'line',
    configure: (config, { name, peerIds }) => {
      // a fixed line with test peers attached to the victim: peer exchange must not rewire it
      config.p2p.targetConnections = 1
      if (name === 'origin') return
      config.trust.communities = [{ peerId: peerIds[0] as string, name: 'origin', sources: [ORIGIN_SOURCE] }]
      config.subscriptions = [{ classes: ['artifact.*'] }]
    },
    meshClasses: [CLASS]
  }) as [E2eNode, E2eNode]
  const identity = await loadOrCreateIdentity(dataDirPaths(origin.dataDir).identity)
  return [origin, victim, { privateKey: identity.privateKey, peerId: origin.peerId }]
}

/** A test peer (real libp2p and gossipsub, a receive path that keeps anything) meshed with the victim. */
async function attach (victim: E2eNode, name: string): Promise<TestNode> {
  const peer = await startP2PNode({ name, network: E2E_NETWORK, classes: [CLASS], targetConnections: 1 })
  await peer.service.dial(victim.address())
  await waitFor(() => peer.service.meshPeers(CLASS).includes(victim.peerId) && victim.node.p2p.meshPeers(CLASS).includes(peer.service.peerId), {
    message: `${name} to mesh with the victim`
  })
  return peer
}

async function heldDigests (node: E2eNode): Promise<Set<string>> {
  return new Set((await allEvents(node.node)).map((s) => s.event.digest))
}

async function nodeInfo (node: E2eNode): Promise<NodeInfo & { refusals: { sequences: number } }> {
  const { status, body } = await node.api().request<NodeInfo & { refusals: { sequences: number } }>('GET', '/v1/node')
  expect(status).toBe(200)
  return body
}

describe('record frames on the wire', () => {
  it('a burst travels in frames, relays pass frames on unchanged, every node stores and sync serves the records one by one', async () => {
    const [origin, victim] = await originAndVictim()
    const listener = await attach(victim, 'listener')

    // one request is one group commit: its records are gossiped in one turn, so they share frames
    const receipts = await publishAll(origin.node, Array.from({ length: 12 }, () => artifactPublished({ source: `${ORIGIN_SOURCE}/release` })))
    const digests = receipts.map((r) => r.digest)
    await waitFor(async () => digests.every((d) => listener.records.stored.has(d)), { message: 'the listener to get all 12 through the victim' })
    const atOrigin = new Map((await allEvents(origin.node)).map((s) => [s.event.digest, Buffer.from(s.event.bytes)]))
    const atVictim = await allEvents(victim.node)
    expect(atVictim.map((s) => s.event.digest).sort()).toEqual([...digests].sort())
    for (const s of atVictim) expect(Buffer.from(s.event.bytes).equals(atOrigin.get(s.event.digest) as Buffer)).toBe(true)

    // the victim forwarded what it validated as it came: frames of the origin's own record bytes
    expect(listener.records.frames.length).toBeGreaterThan(0)
    const framed = listener.records.frames.flat()
    expect(framed.length).toBeGreaterThan(1)
    for (const bytes of framed) expect(Buffer.from(bytes).equals(atOrigin.get(sha256Hex(bytes)) as Buffer)).toBe(true)
    expect(victim.node.p2p.counters().received).toEqual({ stored: 12 })

    // a newcomer that knows only the victim fetches the history by sync, one record at a time
    const [newcomer] = await startNodes(1, {
      names: ['newcomer'],
      topology: 'none',
      configure: (config) => {
        config.p2p.bootstrap = [victim.address()]
        config.trust.communities = [{ peerId: origin.peerId, name: 'origin', sources: ['*'] }]
        config.subscriptions = [{ classes: ['artifact.*'], start: { kind: 'beginning' } }]
      }
    }) as [E2eNode]
    await waitFor(async () => (await heldDigests(newcomer)).size === 12, { timeout: 20_000, message: 'the newcomer to fetch the 12 records' })
    for (const s of await allEvents(newcomer.node)) expect(Buffer.from(s.event.bytes).equals(atOrigin.get(s.event.digest) as Buffer)).toBe(true)
  })

  it('rejects a frame carrying one forgery (nothing of it stored, the sender punished) and malformed or oversize frames', async () => {
    const [origin, victim, originSigner] = await originAndVictim()
    const forger = await attach(victim, 'forger')
    const stranger = await newSigner()
    const genuine = [
      signRecord(artifactPublished({ source: `${ORIGIN_SOURCE}/release` }), originSigner, 1),
      signRecord(artifactPublished({ source: `${ORIGIN_SOURCE}/release` }), originSigner, 2)
    ]
    const forged = signRecordAs(artifactPublished({ source: `${ORIGIN_SOURCE}/release` }), stranger, origin.peerId, 3)
    const pubsub = forger.service.libp2p.services.pubsub
    await pubsub.publish(TOPIC, encodeRecordFrame([...genuine, forged]))
    await waitFor(() => victim.node.p2p.counters().received['reject:CDG_BAD_SIGNATURE'] === 1, { message: 'the victim to reject the frame' })
    await waitFor(() => victim.node.p2p.libp2p.services.pubsub.getScore(forger.service.peerId) < 0, { message: 'the forger to score negative' })

    // bounds, checked before any record is opened: more records than a frame holds, more bytes
    const tooMany = encodeRecordFrame(genuine)
    new DataView(tooMany.buffer).setUint16(FRAME_MAGIC.byteLength, 65)
    const big = new Uint8Array(MAX_FRAME_BYTES / 2).fill(0x7b)
    const oversize = new Uint8Array(2 * big.byteLength + 14)
    oversize.set(FRAME_MAGIC)
    const view = new DataView(oversize.buffer)
    view.setUint16(4, 2)
    view.setUint32(6, big.byteLength)
    oversize.set(big, 10)
    view.setUint32(10 + big.byteLength, big.byteLength)
    oversize.set(big, 14 + big.byteLength)
    const prober = await attach(victim, 'prober')
    await prober.service.libp2p.services.pubsub.publish(TOPIC, tooMany)
    await prober.service.libp2p.services.pubsub.publish(TOPIC, oversize)
    await waitFor(() => victim.node.p2p.counters().received['reject:CDG_INVALID_CLOUDEVENT'] === 2, { message: 'the victim to reject both malformed frames' })

    const held = await heldDigests(victim)
    for (const bytes of [...genuine, forged]) expect(held.has(sha256Hex(bytes))).toBe(false)
    expect(Object.keys(victim.node.p2p.counters().received).sort()).toEqual(['reject:CDG_BAD_SIGNATURE', 'reject:CDG_INVALID_CLOUDEVENT'])
  })

  it('stores a frame\'s trusted record, ledgers its policy-refused one without punishing the sender, and still takes a single unframed record', async () => {
    const [, victim, originSigner] = await originAndVictim()
    const peer = await attach(victim, 'peer')
    const trusted = signRecord(artifactPublished({ source: `${ORIGIN_SOURCE}/release` }), originSigner, 1)
    const refused = signRecord(artifactPublished({ source: `${OTHER_SOURCE}/release` }), originSigner, 2)
    await peer.service.libp2p.services.pubsub.publish(TOPIC, encodeRecordFrame([trusted, refused]))
    await waitFor(async () => (await heldDigests(victim)).has(sha256Hex(trusted)), { message: 'the victim to store the trusted record' })
    await waitFor(async () => (await nodeInfo(victim)).refusals.sequences === 1, { message: 'the victim to ledger the refused record' })
    expect((await heldDigests(victim)).has(sha256Hex(refused))).toBe(false)
    expect(victim.node.p2p.counters().received).toEqual({ stored: 1, 'ignore:CDG_UNTRUSTED_FORWARDED': 1 })
    expect(victim.node.p2p.libp2p.services.pubsub.getScore(peer.service.peerId)).toBeGreaterThanOrEqual(0)
    // the refused sequence is known, not missing
    expect(await victim.node.sync.requestGap(originSigner.peerId, CLASS, 2, 2)).toBe(0)

    // a node from before frames sends each record as its own message
    const single = signRecord(artifactPublished({ source: `${ORIGIN_SOURCE}/release` }), originSigner, 3)
    await peer.service.libp2p.services.pubsub.publish(TOPIC, single)
    await waitFor(async () => (await heldDigests(victim)).has(sha256Hex(single)), { message: 'the victim to store the unframed record' })
    expect(victim.node.p2p.counters().received).toEqual({ stored: 2, 'ignore:CDG_UNTRUSTED_FORWARDED': 1 })
  })
})
