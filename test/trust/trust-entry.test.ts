import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Ajv } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  InvalidTrustEntryError,
  MAX_TRUST_CLASSES,
  MAX_TRUST_SOURCES,
  TrustPolicy,
  trustEntryInputSchema,
  validateTrustEntry
} from '../../src/trust/index.js'
import { thrown } from '../helpers/errors.js'

let peerId: string
let peerIdAsCid: string
let secpPeerId: string

beforeAll(async () => {
  const ed = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  peerId = ed.toString()
  peerIdAsCid = ed.toCID().toString()
  secpPeerId = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString()
})

const bad: Array<[string, () => unknown, string]> = [
  ['not an object', () => 'onap', 'entry'],
  ['an array', () => [], 'entry'],
  ['an unknown field', () => ({ peerId, name: 'a', sources: ['*'], trusted: true }), 'trusted'],
  ['a missing peer ID', () => ({ name: 'a', sources: ['*'] }), 'peerId'],
  ['a peer ID that is no peer ID', () => ({ peerId: 'not-a-peer-id', name: 'a', sources: ['*'] }), 'peerId'],
  ['an over-long peer ID', () => ({ peerId: '1'.repeat(500), name: 'a', sources: ['*'] }), 'peerId'],
  ['a secp256k1 peer ID', () => ({ peerId: secpPeerId, name: 'a', sources: ['*'] }), 'peerId'],
  ['an RSA peer ID', () => ({ peerId: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N', name: 'a', sources: ['*'] }), 'peerId'],
  ['a missing name', () => ({ peerId, sources: ['*'] }), 'name'],
  ['an empty name', () => ({ peerId, name: '', sources: ['*'] }), 'name'],
  ['a name starting with a dot', () => ({ peerId, name: '.onap', sources: ['*'] }), 'name'],
  ['a name with a space', () => ({ peerId, name: 'on ap', sources: ['*'] }), 'name'],
  ['a 65-character name', () => ({ peerId, name: 'a'.repeat(65), sources: ['*'] }), 'name'],
  ['the reserved name self', () => ({ peerId, name: 'self', sources: ['*'] }), 'name'],
  ['a name that is a peer ID', () => ({ peerId, name: peerId, sources: ['*'] }), 'name'],
  ['missing sources', () => ({ peerId, name: 'a' }), 'sources'],
  ['empty sources', () => ({ peerId, name: 'a', sources: [] }), 'sources'],
  ['sources as a string', () => ({ peerId, name: 'a', sources: '*' }), 'sources'],
  ['too many sources', () => ({ peerId, name: 'a', sources: Array.from({ length: MAX_TRUST_SOURCES + 1 }, (_, i) => `urn:${i}`) }), 'sources'],
  ['an empty source', () => ({ peerId, name: 'a', sources: ['urn:a', ''] }), 'sources[1]'],
  ['a non-string source', () => ({ peerId, name: 'a', sources: [42] }), 'sources[0]'],
  ['empty classes', () => ({ peerId, name: 'a', sources: ['*'], classes: [] }), 'classes'],
  ['too many classes', () => ({ peerId, name: 'a', sources: ['*'], classes: Array.from({ length: MAX_TRUST_CLASSES + 1 }, () => '*') }), 'classes'],
  ['a class with capitals', () => ({ peerId, name: 'a', sources: ['*'], classes: ['Artifact.published'] }), 'classes[0]'],
  ['an unknown standard class', () => ({ peerId, name: 'a', sources: ['*'], classes: ['artifact.publised'] }), 'classes[0]'],
  ['an unknown subject wildcard', () => ({ peerId, name: 'a', sources: ['*'], classes: ['nosuchsubject.*'] }), 'classes[0]'],
  ['a bare subject', () => ({ peerId, name: 'a', sources: ['*'], classes: ['artifact'] }), 'classes[0]'],
  ['a predicate wildcard', () => ({ peerId, name: 'a', sources: ['*'], classes: ['*.published'] }), 'classes[0]'],
  ['x.* (no subject)', () => ({ peerId, name: 'a', sources: ['*'], classes: ['x.*'] }), 'classes[0]'],
  ['a custom class without tool', () => ({ peerId, name: 'a', sources: ['*'], classes: ['artifact.published', 'x.resource.created'] }), 'classes[1]'],
  ['a full CDEvents type', () => ({ peerId, name: 'a', sources: ['*'], classes: ['dev.cdevents.artifact.published.0.2.0'] }), 'classes[0]']
]

describe('validateTrustEntry', () => {
  it('fills default classes and drops duplicates', () => {
    expect(validateTrustEntry({ peerId, name: 'onap', sources: ['urn:a', 'urn:a'] }))
      .toEqual({ peerId, name: 'onap', sources: ['urn:a'], classes: ['*'] })
    expect(validateTrustEntry({ peerId, name: 'o.n-a_p', sources: ['*'], classes: ['artifact.*', 'artifact.*', 'x.mytool-resource.created'] }).classes)
      .toEqual(['artifact.*', 'x.mytool-resource.created'])
  })

  it('normalises a peer ID given in CID form to its base58 form', () => {
    expect(peerIdAsCid).not.toBe(peerId)
    expect(validateTrustEntry({ peerId: peerIdAsCid, name: 'onap', sources: ['*'] }).peerId).toBe(peerId)
  })

  it.each(bad)('refuses %s', (_, input, field) => {
    const err = thrown(() => validateTrustEntry(input()))
    expect(err).toBeInstanceOf(InvalidTrustEntryError)
    expect(err.code).toBe('CDG_INVALID_REQUEST')
    expect(err.details).toEqual({ field })
  })

  it('refuses the same through TrustPolicy.add', () => {
    const policy = new TrustPolicy({ selfPeerId: peerId })
    const err = thrown(() => policy.add({ peerId: secpPeerId, name: 'a', sources: ['*'] }))
    expect(err.code).toBe('CDG_INVALID_REQUEST')
    expect(policy.list()).toEqual([])
  })
})

describe('trustEntryInputSchema', () => {
  const validators = [
    ['draft-07', new Ajv({ strict: true, allErrors: true }).compile(trustEntryInputSchema)],
    ['draft 2020-12', new Ajv2020({ strict: true, allErrors: true }).compile(trustEntryInputSchema)]
  ] as const

  it.each(validators)('accepts what validateTrustEntry accepts (%s)', (_, validate) => {
    for (const input of [
      { peerId, name: 'onap', sources: ['*'] },
      { peerId, name: 'onap-2', sources: ['https://ci.onap.org', 'urn:onap:'], classes: ['*', 'artifact.*', 'x.mytool-resource.*', 'x.mytool-resource.created'] }
    ]) {
      expect(validate(input)).toBe(true)
      expect(() => validateTrustEntry(input)).not.toThrow()
    }
  })

  it.each(validators)('refuses shapes validateTrustEntry refuses (%s)', (_, validate) => {
    // class patterns are the code's: its answer names the nearest subject or class, not a regex
    for (const [, input] of bad.filter(([label, , f]) => !label.includes('peer ID') && !label.includes('self') && !String(f).startsWith('classes['))) {
      const value = input()
      expect(validate(value), JSON.stringify(value).slice(0, 80)).toBe(false)
    }
  })
})
