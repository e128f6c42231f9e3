import { TopicValidatorResult } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { CdgossipError, ERROR_CODES } from '../../src/errors.js'
import { GOSSIP_VERDICTS, verdictFor } from '../../src/p2p/index.js'

/** Proofs that the sending peer forwarded something no honest node would, whatever its policy. */
const REJECTED = [
  'CDG_BAD_SIGNATURE',
  'CDG_INVALID_EVENT',
  'CDG_INVALID_CLOUDEVENT',
  'CDG_EVENT_TOO_LARGE',
  'CDG_TOPIC_MISMATCH',
  'CDG_UNSUPPORTED_SPEC_VERSION',
  'CDG_CONFLICTING_EVENT'
]

describe('gossip verdicts', () => {
  it('maps every error code, rejecting exactly the forgeries and malformed records', () => {
    expect(Object.keys(GOSSIP_VERDICTS).sort()).toEqual([...ERROR_CODES].sort())
    for (const code of ERROR_CODES) {
      expect(GOSSIP_VERDICTS[code], code).toBe(REJECTED.includes(code) ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore)
    }
    expect(GOSSIP_VERDICTS.CDG_DUPLICATE_EVENT).toBe(TopicValidatorResult.Ignore)
    // a receiver's own trust policy is never the sender's fault, even when the signer pushed it
    expect(GOSSIP_VERDICTS.CDG_UNTRUSTED_SIGNER).toBe(TopicValidatorResult.Ignore)
    expect(GOSSIP_VERDICTS.CDG_UNTRUSTED_FORWARDED).toBe(TopicValidatorResult.Ignore)
    expect(Object.isFrozen(GOSSIP_VERDICTS)).toBe(true)
  })

  it('reads the verdict from the error code, and ignores anything that is not a CdgossipError', () => {
    expect(verdictFor(new CdgossipError('CDG_BAD_SIGNATURE', 'x'))).toBe(TopicValidatorResult.Reject)
    expect(verdictFor(new CdgossipError('CDG_STORE', 'x'))).toBe(TopicValidatorResult.Ignore)
    expect(verdictFor(new TypeError('bug'))).toBe(TopicValidatorResult.Ignore)
    expect(verdictFor('thrown string')).toBe(TopicValidatorResult.Ignore)
    expect(verdictFor(undefined)).toBe(TopicValidatorResult.Ignore)
  })
})
