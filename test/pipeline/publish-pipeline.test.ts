import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PublishPipeline } from '../../src/pipeline/publish-pipeline.js'
import { MAX_RECORD_BYTES } from '../../src/signing/index.js'
import type { PublishReceipt } from '../../src/api/types.js'
import type { EventClass } from '../../src/events/types.js'
import { artifactPublished, pipelineRunFinished } from '../helpers/nodes.js'
import { openStore } from '../store/fixtures.js'

async function pipeline (): Promise<{ publisher: PublishPipeline, gossiped: Array<[EventClass, Uint8Array]>, store: Awaited<ReturnType<typeof openStore>>['store'] }> {
  const { store } = await openStore()
  const privateKey = await generateKeyPair('Ed25519')
  const gossiped: Array<[EventClass, Uint8Array]> = []
  const publisher = new PublishPipeline({
    store,
    signer: { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() },
    gossip: (eventClass, bytes) => { gossiped.push([eventClass, bytes]) },
    stored: () => {}
  })
  return { publisher, gossiped, store }
}

describe('PublishPipeline group commit', () => {
  it('answers requests committed together exactly as it would answer each alone', async () => {
    const { publisher, gossiped, store } = await pipeline()
    const first = artifactPublished({ source: 'https://ci.example.org/release' })
    await publisher.publish([{ cdevent: first }])

    const fresh = Array.from({ length: 12 }, (_, i) => i % 2 === 0 ? artifactPublished() : pipelineRunFinished())
    const repeat = first
    const changed = { ...first, subject: { ...first.subject, content: { ...first.subject.content, user: 'someone-else' } } }
    const oversized = { ...artifactPublished(), customData: { blob: 'x'.repeat(MAX_RECORD_BYTES) } }
    const twin = artifactPublished()
    const twinChanged = { ...twin, subject: { ...twin.subject, content: { ...twin.subject.content, user: 'other' } } }
    // all called before the first commit runs, so they share one group
    const calls = [
      ...fresh.slice(0, 4).map((cdevent) => publisher.publish([{ cdevent }])),
      publisher.publish([{ cdevent: repeat }]),
      publisher.publish([{ cdevent: changed }]),
      publisher.publish(fresh.slice(4, 8).map((cdevent) => ({ cdevent }))),
      publisher.publish([{ cdevent: oversized }]),
      publisher.publish([{ cdevent: twin }, { cdevent: twinChanged }]),
      ...fresh.slice(8).map((cdevent) => publisher.publish([{ cdevent }]))
    ]
    const results = await Promise.allSettled(calls)
    const codes = results.map((r) => r.status === 'fulfilled' ? r.value.map((receipt) => receipt.status).join(',') : (r.reason as { code: string }).code)
    expect(codes).toEqual([
      'created', 'created', 'created', 'created',
      'existing',
      'CDG_CONFLICTING_EVENT',
      'created,created,created,created',
      'CDG_EVENT_TOO_LARGE',
      'CDG_CONFLICTING_EVENT',
      'created', 'created', 'created', 'created'
    ])

    // sequences per class are contiguous: refused requests used none
    const receipts = results.flatMap((r) => r.status === 'fulfilled' ? r.value : []).filter((r) => r.status === 'created')
    const byClass = new Map<string, number[]>()
    for (const r of receipts) byClass.set(r.class, [...(byClass.get(r.class) ?? []), r.sequence])
    expect([...(byClass.get('artifact.published') ?? [])].sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7])
    expect([...(byClass.get('pipelinerun.finished') ?? [])].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6])
    expect((await store.stats()).events).toBe(13)
    expect(gossiped).toHaveLength(13)
    expect(await store.has((receipts[0] as PublishReceipt).digest)).toBe(true)
  })

})

describe('PublishPipeline batch refusals', () => {
  /** The refusal of `publish`, or a failure when it succeeds. */
  async function refusal (publisher: PublishPipeline, cdevents: unknown[]): Promise<{ code: string, message: string, details: { violations?: Array<Record<string, unknown>>, mismatches?: Array<Record<string, unknown>> } }> {
    try {
      await publisher.publish(cdevents.map((cdevent) => ({ cdevent })))
    } catch (err) {
      return err as never
    }
    throw new Error('the batch was accepted')
  }

  it('names every invalid event of a batch by index and id, and stores nothing', async () => {
    const { publisher, store, gossiped } = await pipeline()
    const good = artifactPublished()
    const noSbom = artifactPublished()
    const badSubject = { ...noSbom, subject: { ...noSbom.subject, content: { ...noSbom.subject.content, sbom: 5 } } }
    const noContext = { subject: {} }
    const err = await refusal(publisher, [good, badSubject, pipelineRunFinished(), noContext])
    expect(err.code).toBe('CDG_INVALID_EVENT')
    expect(err.message).toMatch(/^2 of 4 events in the batch are refused; nothing was stored/)
    const violations = err.details.violations ?? []
    expect(new Set(violations.map((v) => v.index))).toEqual(new Set([1, 3]))
    expect(violations.filter((v) => v.index === 1).every((v) => v.id === noSbom.context.id)).toBe(true)
    expect(violations.some((v) => v.index === 1 && v.path === '/subject/content/sbom')).toBe(true)
    expect(violations.filter((v) => v.index === 3).every((v) => v.id === undefined)).toBe(true)
    expect((await store.stats()).events).toBe(0)
    expect(gossiped).toHaveLength(0)
  })

  it('names the event of a batch that conflicts with a stored one', async () => {
    const { publisher } = await pipeline()
    const first = artifactPublished()
    await publisher.publish([{ cdevent: first }])
    const changed = { ...first, subject: { ...first.subject, content: { ...first.subject.content, user: 'someone-else' } } }
    const err = await refusal(publisher, [artifactPublished(), artifactPublished(), changed])
    expect(err.code).toBe('CDG_CONFLICTING_EVENT')
    expect(err.details.violations).toEqual([{ index: 2, id: first.context.id, path: '', message: expect.any(String) }])
  })
})
