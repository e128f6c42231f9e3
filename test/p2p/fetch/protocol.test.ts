import { describe, expect, it } from 'vitest'
import { decodeFetchRequest, encodeFetchRequest, fetchProtocol, FETCH_REQUEST_KIND, MAX_FETCH_REFS, MAX_REF_FIELD_LENGTH } from '../../../src/p2p/fetch/protocol.js'
import { MAX_CONTROL_FRAME_BYTES } from '../../../src/p2p/sync/protocol.js'

function frame (body: unknown): Uint8Array {
  const json = new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body))
  return Uint8Array.of(FETCH_REQUEST_KIND, ...json)
}

describe('fetch protocol', () => {
  it('names its network in the protocol id', () => {
    expect(fetchProtocol('prod')).toBe('/cdgossip/prod/fetch/1.0.0')
  })

  it('round-trips every kind of reference', () => {
    const refs = [
      { kind: 'context' as const, id: 'c1' },
      { kind: 'context' as const, id: 'c2', source: 'https://ci.example/x' },
      { kind: 'entity' as const, type: 'artifact', id: 'pkg:oci/app@1' },
      { kind: 'entity' as const, type: 'artifact', id: 'pkg:oci/app@2', referrers: true as const },
      { kind: 'chain' as const, id: 'chain-1' }
    ]
    expect(decodeFetchRequest(encodeFetchRequest(refs))).toEqual(refs)
  })

  it('refuses what is not a strict, bounded request', () => {
    const bad: unknown[] = [
      'not json',
      { refs: [] },
      { refs: Array.from({ length: MAX_FETCH_REFS + 1 }, (_, i) => ({ kind: 'chain', id: `c${i}` })) },
      { refs: [{ kind: 'chain', id: 'x' }], more: 1 },
      { refs: [{ kind: 'chain', id: '' }] },
      { refs: [{ kind: 'chain', id: 'x'.repeat(MAX_REF_FIELD_LENGTH + 1) }] },
      { refs: [{ kind: 'chain', id: 'x', source: 's' }] },
      { refs: [{ kind: 'entity', id: 'x' }] },
      { refs: [{ kind: 'entity', type: 'artifact', id: 'x', referrers: false }] },
      { refs: [{ kind: 'context', id: 7 }] },
      { refs: [{ kind: 'everything' }] },
      { refs: [null] }
    ]
    for (const body of bad) expect(() => decodeFetchRequest(frame(body)), JSON.stringify(body)?.slice(0, 80)).toThrow(expect.objectContaining({ code: 'CDG_SYNC_PROTOCOL' }))
    expect(() => decodeFetchRequest(Uint8Array.of(0x01, 0x7b, 0x7d))).toThrow(expect.objectContaining({ code: 'CDG_SYNC_PROTOCOL' }))
    const huge = frame({ refs: [{ kind: 'chain', id: 'x'.repeat(MAX_CONTROL_FRAME_BYTES) }] })
    expect(() => decodeFetchRequest(huge)).toThrow(expect.objectContaining({ code: 'CDG_SYNC_PROTOCOL' }))
  })
})
