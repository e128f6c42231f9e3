import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import { InvalidTrustEntryError, TrustPolicy, validateTrustEntry } from '../../src/trust/index.js'
import type { CommunityMembershipFacts } from '../../src/trust/index.js'
import { thrown } from '../helpers/errors.js'

async function newPeerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

let self: string
let genesisRoot: string
let rotatedRoot: string
let node1: string
let node2: string
let revokedNode: string
let stranger: string

beforeAll(async () => {
  const ids = await Promise.all(Array.from({ length: 7 }, newPeerId))
  ;[self, genesisRoot, rotatedRoot, node1, node2, revokedNode, stranger] = ids as [string, string, string, string, string, string, string]
})

/** A directory stand-in: what the held manifests say of each signer. */
function memberships (facts: Record<string, CommunityMembershipFacts[]>): (peerId: string) => CommunityMembershipFacts[] {
  return peerId => facts[peerId] ?? []
}

function onapPolicy (facts: Record<string, CommunityMembershipFacts[]>, rootKey = genesisRoot): TrustPolicy {
  return new TrustPolicy({ selfPeerId: self, memberships: memberships(facts) }, {
    entries: [{ community: rootKey, name: 'onap', sources: ['https://jenkins.onap.org', 'urn:onap:'], classes: ['artifact.*', 'pipelinerun.*'] }]
  })
}

describe('trust entries naming a community root key', () => {
  it('validates exactly one of peerId and community', () => {
    expect(validateTrustEntry({ community: genesisRoot, name: 'onap', sources: ['*'] })).toEqual({ community: genesisRoot, name: 'onap', sources: ['*'], classes: ['*'] })
    expect(thrown(() => validateTrustEntry({ community: genesisRoot, peerId: node1, name: 'onap', sources: ['*'] }))).toBeInstanceOf(InvalidTrustEntryError)
    expect(thrown(() => validateTrustEntry({ name: 'onap', sources: ['*'] })).message).toContain('exactly one of peerId')
    expect(thrown(() => validateTrustEntry({ community: 'not-a-key', name: 'onap', sources: ['*'] })).details).toEqual({ field: 'community' })
  })

  it('trusts every listed node within the intersection of the entry and node scopes', () => {
    const rootKeys = [genesisRoot]
    const p = onapPolicy({
      [node1]: [{ rootKeys, node: {} }],
      [node2]: [{ rootKeys, node: { sources: ['https://jenkins.onap.org/job/release'], classes: ['artifact.published'] } }]
    })
    expect(p.check({ origin: node1, source: 'urn:onap:gerrit', eventClass: 'pipelinerun.finished' })).toEqual({ trusted: true, name: 'onap' })
    expect(p.check({ origin: node2, source: 'https://jenkins.onap.org/job/release/3', eventClass: 'artifact.published' })).toEqual({ trusted: true, name: 'onap' })
    // inside the entry, outside the node's own scopes
    expect(thrown(() => p.check({ origin: node2, source: 'urn:onap:gerrit', eventClass: 'artifact.published' })).details).toMatchObject({ reason: 'source-not-allowed', name: 'onap' })
    expect(thrown(() => p.check({ origin: node2, source: 'https://jenkins.onap.org/job/release/3', eventClass: 'artifact.signed' })).details).toMatchObject({ reason: 'class-not-allowed' })
    // inside the node's scopes (none), outside the entry
    expect(thrown(() => p.check({ origin: node1, source: 'https://elsewhere.org', eventClass: 'artifact.published' })).details).toMatchObject({ reason: 'source-not-allowed' })
    expect(thrown(() => p.check({ origin: stranger, source: 'urn:onap:x', eventClass: 'artifact.published' })).details).toMatchObject({ reason: 'unknown-signer' })
    expect(p.nameOf(node2)).toBe('onap')
  })

  it('refuses a revoked node as revoked-signer, and a community no entry names as unknown', () => {
    const p = onapPolicy({
      [revokedNode]: [{ rootKeys: [genesisRoot], revoked: { version: 3, since: '2026-12-02T18:00:00.000Z' } }],
      [node1]: [{ rootKeys: [stranger], node: {} }]
    })
    const err = thrown(() => p.check({ origin: revokedNode, source: 'urn:onap:x', eventClass: 'artifact.published' }))
    expect(err.code).toBe('CDG_UNTRUSTED_SIGNER')
    expect(err.details).toMatchObject({ reason: 'revoked-signer', name: 'onap' })
    expect(err.message).toContain('version 3')
    expect(thrown(() => p.check({ origin: node1, source: 'urn:onap:x', eventClass: 'artifact.published' })).details).toMatchObject({ reason: 'unknown-signer' })
  })

  it('follows a rotation: an entry naming the genesis key keeps trusting the rotated community', () => {
    const p = onapPolicy({ [node1]: [{ rootKeys: [genesisRoot, rotatedRoot], node: {} }] }, genesisRoot)
    expect(p.check({ origin: node1, source: 'urn:onap:x', eventClass: 'artifact.published' }).trusted).toBe(true)
    const q = onapPolicy({ [node1]: [{ rootKeys: [genesisRoot, rotatedRoot], node: {} }] }, rotatedRoot)
    expect(q.check({ origin: node1, source: 'urn:onap:x', eventClass: 'artifact.published' }).trusted).toBe(true)
  })

  it('applies a manifest change to the next check and changes the fingerprint', () => {
    const facts: Record<string, CommunityMembershipFacts[]> = {}
    const p = onapPolicy(facts)
    const check = { origin: node2, source: 'urn:onap:x', eventClass: 'artifact.published' } as const
    const before = p.fingerprint(node2)
    expect(thrown(() => p.check(check)).details).toMatchObject({ reason: 'unknown-signer' })
    facts[node2] = [{ rootKeys: [genesisRoot], node: {} }]
    expect(p.check(check).trusted).toBe(true)
    expect(p.fingerprint(node2)).not.toBe(before)
  })

  it('lists, looks up and removes community entries by root key or name', () => {
    const p = onapPolicy({})
    expect(p.communityKeys()).toEqual(new Set([genesisRoot]))
    expect(p.get('onap')).toMatchObject({ community: genesisRoot })
    expect(p.get(genesisRoot)?.name).toBe('onap')
    expect(p.remove('onap')).toBe(true)
    expect(p.list()).toEqual([])
  })
})
