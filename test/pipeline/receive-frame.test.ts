import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import type { SignedEvent } from '../../src/events/types.js'
import { ReceivePipeline } from '../../src/pipeline/index.js'
import { inlineVerifier } from '../../src/signing/index.js'
import type { Signer } from '../../src/signing/index.js'
import type { EventStore } from '../../src/store/index.js'
import { artifactPublished } from '../helpers/nodes.js'
import { openStore } from '../store/fixtures.js'
import { signRecord } from '../helpers/records.js'

const CLASS = 'artifact.published'
const CONTEXT = { expectedClass: CLASS, from: 'peer', via: 'gossip' } as const

/** The pipeline over a real store, trusting and keeping everything; counts the store's batch writes. */
function pipelineOver (store: EventStore): { pipeline: ReceivePipeline, writes: number[], stored: string[] } {
  const writes: number[] = []
  const stored: string[] = []
  const pipeline = new ReceivePipeline({
    store: {
      append: async (event, meta) => await store.append(event, meta),
      appendBatch: async (items: Array<{ event: SignedEvent, trusted: boolean }>) => {
        writes.push(items.length)
        return await store.appendBatch(items)
      }
    },
    trust: () => ({ trusted: true }),
    wanted: () => true,
    stored: (s) => { stored.push(s.event.digest) },
    gap: () => {},
    verifier: inlineVerifier
  })
  return { pipeline, writes, stored }
}

describe('ReceivePipeline.receiveFrame', () => {
  it('stores a frame\'s records in one write, byte-identical, and tells of each', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const signer: Signer = { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
    const { store } = await openStore()
    const { pipeline, writes, stored } = pipelineOver(store)
    const records = [1, 2, 3].map((seq) => signRecord(artifactPublished(), signer, seq))
    const outcomes = await pipeline.receiveFrame(records, CONTEXT)
    expect(outcomes.map((o) => o.status)).toEqual(['stored', 'stored', 'stored'])
    expect(writes).toEqual([3])
    expect(stored).toHaveLength(3)
    for (const bytes of records) {
      const held = await store.getBySourceAndId(JSON.parse(Buffer.from(bytes).toString()).source as string, JSON.parse(Buffer.from(bytes).toString()).id as string)
      expect(Buffer.from(held?.event.bytes as Uint8Array).equals(bytes)).toBe(true)
    }
    // the same frame again: duplicates, nothing new
    expect((await pipeline.receiveFrame(records, CONTEXT)).map((o) => o.status)).toEqual(['duplicate', 'duplicate', 'duplicate'])
  })

  it('keeps a frame\'s other records when one contradicts a record already held, and throws the conflict (gossip Rejects it)', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const signer: Signer = { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
    const { store } = await openStore()
    const { pipeline } = pipelineOver(store)
    const first = artifactPublished()
    await pipeline.receive(signRecord(first, signer, 1), CONTEXT)
    // the same (source, id), other content: an equivocation signed by the origin itself
    const contradiction = signRecord({ ...first, subject: { ...first.subject, id: `${first.subject.id}-other` } }, signer, 3)
    const fine = signRecord(artifactPublished(), signer, 2)
    await expect(pipeline.receiveFrame([fine, contradiction], CONTEXT)).rejects.toMatchObject({ code: 'CDG_CONFLICTING_EVENT' })
    const held = await store.getBySourceAndId(first.context.source, first.context.id)
    expect(held?.event.sequence).toBe(1)
    expect(await store.highestSequence(signer.peerId, CLASS)).toBe(2)
  })
})
