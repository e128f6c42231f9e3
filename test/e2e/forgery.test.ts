import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { dataDirPaths } from '../../src/data-dir.js'
import { MAX_INBOUND_DATA_LENGTH, MAX_RECORD_BYTES } from '../../src/p2p/index.js'
import { BadSignatureError, loadOrCreateIdentity, openSignedRecord } from '../../src/signing/index.js'
import type { Signer } from '../../src/signing/index.js'
import { sha256Hex, startP2PNode } from '../helpers/p2p.js'
import type { TestNode } from '../helpers/p2p.js'
import { artifactPublished, digestsOf, E2E_NETWORK, pipelineRunFinished, publishAll, startNodes, waitFor, waitForMesh } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'
import { signRecord, signRecordAs } from '../helpers/records.js'

const ORIGIN_SOURCE = 'https://ci.origin.example/jenkins'
const SCOPED_SOURCE = 'https://ci.scoped.example/zuul'
const ARTIFACT_TOPIC = `cdgossip/${E2E_NETWORK}/artifact.published`

/** The same record with one byte of its CDEvent data changed; the base64 is re-encoded, so it still decodes. */
function flipDataByte (record: Uint8Array): Uint8Array {
  const fields = JSON.parse(Buffer.from(record).toString('utf8')) as Record<string, string>
  const data = Buffer.from(fields.data_base64 as string, 'base64')
  const at = data.indexOf('release-bot')
  if (at < 0) throw new Error('fixture changed: no user in the artifact data')
  data[at] = 's'.charCodeAt(0) // release-bot → selease-bot: still valid JSON and a valid CDEvent
  fields.data_base64 = data.toString('base64')
  // JSON.stringify keeps the member order and escaping of the wire format: only data_base64 differs
  return Buffer.from(JSON.stringify(fields), 'utf8')
}

describe('forged and misfiled records from hostile peers', () => {
  it('are stored nowhere, rejected by code, punish their senders, and honest events keep flowing', async () => {
    const scopedKey = await generateKeyPair('Ed25519')
    const scoped: Signer = { privateKey: scopedKey, peerId: peerIdFromPrivateKey(scopedKey).toString() }
    const [origin, victim, honest] = await startNodes(3, {
      names: ['origin', 'victim', 'honest'],
      topology: 'line',
      configure: (config, { name, peerIds }) => {
        // a line, hostile peers attached to the victim only: peer exchange must not rewire it
        config.p2p.targetConnections = 1
        if (name === 'origin') return
        config.trust.communities = [
          { peerId: peerIds[0] as string, name: 'origin', sources: [ORIGIN_SOURCE] },
          { peerId: scoped.peerId, name: 'scoped', sources: [SCOPED_SOURCE] }
        ]
        config.subscriptions = [{ classes: ['artifact.*'] }]
      },
      meshClasses: ['artifact.published']
    }) as [E2eNode, E2eNode, E2eNode]
    const originKey = await loadOrCreateIdentity(dataDirPaths(origin.dataDir).identity)
    const originSigner: Signer = { privateKey: originKey.privateKey, peerId: origin.peerId }
    await waitFor(() => origin.node.p2p.subscribers('artifact.published').includes(victim.peerId), { message: 'the origin to see the victim\'s subscription' })

    const [first] = await publishAll(origin.node, [artifactPublished({ source: `${ORIGIN_SOURCE}/release` })])
    await waitFor(async () => (await honest.node.getEvent(first?.digest as string)) !== undefined, { message: 'the first honest event at both nodes' })
    const genuine = (await victim.node.getEvent(first?.digest as string))?.event.bytes as Uint8Array

    const strangerKey = await generateKeyPair('Ed25519')
    const stranger: Signer = { privateKey: strangerKey, peerId: peerIdFromPrivateKey(strangerKey).toString() }
    const forgeries: Record<string, Uint8Array> = {
      // (a) signed by an unknown key, claiming to be the trusted origin
      forger: signRecordAs(artifactPublished({ source: `${ORIGIN_SOURCE}/release` }), stranger, origin.peerId, 7),
      // (b) a genuine signature of a trusted community, for a source outside its trust entry,
      // pushed by that community's own node (its libp2p key is the signing key): not a forgery,
      // the victim's own policy refuses it, so it is Ignored and costs no score (issue #13)
      impostor: signRecord(artifactPublished({ source: `${ORIGIN_SOURCE}/release` }), scoped, 1),
      // (c) the origin's genuine record with one data byte changed
      tamperer: flipDataByte(genuine),
      // (d) a genuine pipelinerun.finished record gossiped on the artifact.published topic
      misfiler: signRecord(pipelineRunFinished({ source: `${ORIGIN_SOURCE}/build` }), originSigner, 1),
      // (e) over the record limit, under gossipsub's frame limit: it reaches the validator
      bloater: new Uint8Array(MAX_RECORD_BYTES + 1024).fill(0x7b)
    }
    // the forgeries are what they claim to be: (a) and (c) fail verification, the others verify
    expect(() => openSignedRecord(forgeries.forger as Uint8Array)).toThrow(BadSignatureError)
    expect(() => openSignedRecord(forgeries.tamperer as Uint8Array)).toThrow(BadSignatureError)
    expect(openSignedRecord(forgeries.impostor as Uint8Array).origin).toBe(scoped.peerId)
    expect(openSignedRecord(forgeries.misfiler as Uint8Array).origin).toBe(origin.peerId)
    expect(forgeries.bloater?.byteLength).toBeLessThan(MAX_INBOUND_DATA_LENGTH)

    // hostile peers: real libp2p + gossipsub with the same topics, whose own receive path accepts anything
    const hostiles: Record<string, TestNode> = {}
    for (const name of Object.keys(forgeries)) {
      const node = await startP2PNode({ name, network: E2E_NETWORK, classes: ['artifact.published'], targetConnections: 1, ...(name === 'impostor' ? { privateKey: scopedKey } : {}) })
      await node.service.dial(victim.address())
      hostiles[name] = node
    }
    await waitFor(() => Object.values(hostiles).every((h) =>
      h.service.meshPeers('artifact.published').includes(victim.peerId) &&
      victim.node.p2p.subscribers('artifact.published').includes(h.service.peerId)), { message: 'every hostile peer to mesh with the victim' })

    for (const [name, bytes] of Object.entries(forgeries)) {
      await (hostiles[name] as TestNode).service.libp2p.services.pubsub.publish(ARTIFACT_TOPIC, bytes)
    }

    const pubsub = victim.node.p2p.libp2p.services.pubsub
    const punished = Object.entries(hostiles).filter(([name]) => name !== 'impostor').map(([, h]) => h)
    await waitFor(() => punished.every((h) => pubsub.getScore(h.service.peerId) < 0), {
      message: 'every forging peer to score negative at the victim'
    })
    await waitFor(() => victim.node.p2p.counters().received['ignore:CDG_UNTRUSTED_SIGNER'] === 1, { message: 'the victim to refuse the out-of-scope record' })
    expect(pubsub.getScore((hostiles.impostor as TestNode).service.peerId)).toBeGreaterThanOrEqual(0)
    const received = victim.node.p2p.counters().received
    expect(received['reject:CDG_BAD_SIGNATURE']).toBe(2)
    expect(received['reject:CDG_TOPIC_MISMATCH']).toBe(1)
    expect(received['reject:CDG_EVENT_TOO_LARGE']).toBe(1)
    expect(Object.keys(received).filter((k) => k !== 'stored').sort()).toEqual([
      'ignore:CDG_UNTRUSTED_SIGNER', 'reject:CDG_BAD_SIGNATURE', 'reject:CDG_EVENT_TOO_LARGE', 'reject:CDG_TOPIC_MISMATCH'
    ])

    // the same out-of-scope record forwarded by a third peer: dropped, and not punished either
    const forwarder = await startP2PNode({ name: 'forwarder', network: E2E_NETWORK, classes: ['artifact.published'], targetConnections: 1 })
    await forwarder.service.dial(victim.address())
    await waitFor(() => forwarder.service.meshPeers('artifact.published').includes(victim.peerId), { message: 'the forwarder to mesh with the victim' })
    const outOfScope = signRecord(artifactPublished({ source: `${ORIGIN_SOURCE}/release` }), scoped, 2)
    forgeries.forwarded = outOfScope
    await forwarder.service.libp2p.services.pubsub.publish(ARTIFACT_TOPIC, outOfScope)
    await waitFor(() => victim.node.p2p.counters().received['ignore:CDG_UNTRUSTED_FORWARDED'] === 1, { message: 'the victim to drop the forwarded record' })
    expect(pubsub.getScore(forwarder.service.peerId)).toBeGreaterThanOrEqual(0)

    // honest events published after the attack still reach both honest nodes
    const later = await publishAll(origin.node, [
      artifactPublished({ source: `${ORIGIN_SOURCE}/release` }),
      artifactPublished({ source: `${ORIGIN_SOURCE}/release` })
    ])
    for (const node of [victim, honest]) {
      await waitFor(async () => {
        const held = new Set(await digestsOf(node.node))
        return later.every((r) => held.has(r.digest))
      }, { message: `${node.name} to store the honest events sent after the attack` })
    }

    const forged = new Set(Object.values(forgeries).map(sha256Hex))
    for (const node of [victim, honest]) {
      const held = await digestsOf(node.node)
      expect(held.filter((d) => forged.has(d))).toEqual([])
      expect(held.sort()).toEqual([first?.digest as string, ...later.map((r) => r.digest)].sort())
    }
    // nothing rejected at the victim was forwarded: the honest node saw only genuine records
    expect(Object.keys(honest.node.p2p.counters().received).filter((k) => k.startsWith('reject:'))).toEqual([])
    // the honest neighbours keep their standing
    expect(pubsub.getScore(honest.peerId)).toBeGreaterThanOrEqual(0)
    await waitForMesh([victim, honest], 'artifact.published')
  })
})
