import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../../src/errors.js'
import { InvalidTrustEntryError, TrustPolicy, UntrustedSignerError, sourceHasPrefix } from '../../src/trust/index.js'
import type { UntrustedSignerDetails } from '../../src/trust/index.js'
import { thrown } from '../helpers/errors.js'

async function newPeerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

let self: string
let onap: string
let lf: string
let stranger: string

beforeAll(async () => {
  [self, onap, lf, stranger] = await Promise.all([newPeerId(), newPeerId(), newPeerId(), newPeerId()])
})

function policy (mode: 'allowlist' | 'open' = 'allowlist'): TrustPolicy {
  return new TrustPolicy({ selfPeerId: self }, {
    mode,
    entries: [
      { peerId: onap, name: 'onap', sources: ['https://jenkins.onap.org', 'urn:onap:'], classes: ['artifact.*', 'pipelinerun.finished'] },
      { peerId: lf, name: 'lf', sources: ['*'] }
    ]
  })
}

describe('TrustPolicy.check in allowlist mode', () => {
  it('trusts own events whatever their source and class', () => {
    expect(policy().check({ origin: self, source: 'anything', eventClass: 'x.tool-thing.done' })).toEqual({ trusted: true, name: 'self' })
  })

  it('trusts a listed peer within its sources and classes', () => {
    const p = policy()
    expect(p.check({ origin: onap, source: 'https://jenkins.onap.org/job/42', eventClass: 'artifact.published' })).toEqual({ trusted: true, name: 'onap' })
    expect(p.check({ origin: onap, source: 'https://jenkins.onap.org', eventClass: 'pipelinerun.finished' })).toEqual({ trusted: true, name: 'onap' })
    expect(p.check({ origin: onap, source: 'urn:onap:gerrit', eventClass: 'artifact.signed' })).toEqual({ trusted: true, name: 'onap' })
  })

  it('treats `*` sources and default classes as anything', () => {
    expect(policy().check({ origin: lf, source: '/whatever', eventClass: 'x.mytool-resource.created' })).toEqual({ trusted: true, name: 'lf' })
  })

  it('refuses an unknown signer', () => {
    const err = thrown(() => policy().check({ origin: stranger, source: 'https://jenkins.onap.org', eventClass: 'artifact.published' }))
    expect(err).toBeInstanceOf(UntrustedSignerError)
    expect(err.code).toBe('CDG_UNTRUSTED_SIGNER')
    expect(err.details).toMatchObject({ reason: 'unknown-signer', origin: stranger })
  })

  it('refuses a source outside the prefixes, and says which prefixes', () => {
    const err = thrown(() => policy().check({ origin: onap, source: 'https://jenkins.other.org/job/1', eventClass: 'artifact.published' }))
    expect(err.code).toBe('CDG_UNTRUSTED_SIGNER')
    expect(err.details).toMatchObject({ reason: 'source-not-allowed', name: 'onap' } satisfies Partial<UntrustedSignerDetails>)
    expect(err.message).toContain('https://jenkins.onap.org')
  })

  it('refuses a source that only shares characters, not a segment, with a prefix', () => {
    const err = thrown(() => policy().check({ origin: onap, source: 'https://jenkins.onap.org.attacker.net/x', eventClass: 'artifact.published' }))
    expect(err.details).toMatchObject({ reason: 'source-not-allowed' })
  })

  it('refuses a class outside the patterns', () => {
    const err = thrown(() => policy().check({ origin: onap, source: 'https://jenkins.onap.org/a', eventClass: 'pipelinerun.started' }))
    expect(err.code).toBe('CDG_UNTRUSTED_SIGNER')
    expect(err.details).toMatchObject({ reason: 'class-not-allowed', name: 'onap', eventClass: 'pipelinerun.started' })
  })
})

describe('TrustPolicy.check in open mode', () => {
  it('marks outsiders untrusted instead of refusing them', () => {
    const p = policy('open')
    expect(p.check({ origin: stranger, source: 'x', eventClass: 'artifact.published' })).toEqual({ trusted: false })
    expect(p.check({ origin: onap, source: 'https://elsewhere/', eventClass: 'artifact.published' })).toEqual({ trusted: false, name: 'onap' })
    expect(p.check({ origin: onap, source: 'https://jenkins.onap.org/', eventClass: 'build.started' })).toEqual({ trusted: false, name: 'onap' })
  })

  it('still trusts own events and listed peers in scope', () => {
    const p = policy('open')
    expect(p.check({ origin: self, source: 'x', eventClass: 'artifact.published' })).toEqual({ trusted: true, name: 'self' })
    expect(p.check({ origin: lf, source: 'x', eventClass: 'artifact.published' })).toEqual({ trusted: true, name: 'lf' })
  })
})

describe('TrustPolicy mutations apply at once', () => {
  it('add, replace and remove change the next verdict', () => {
    const p = policy()
    const check = { origin: stranger, source: 'https://ci.example.org/job', eventClass: 'build.finished' }
    expect(() => p.check(check)).toThrow(UntrustedSignerError)

    const added = p.add({ peerId: stranger, name: 'example', sources: ['https://ci.example.org'] })
    expect(added).toEqual({ peerId: stranger, name: 'example', sources: ['https://ci.example.org'], classes: ['*'] })
    expect(p.check(check)).toEqual({ trusted: true, name: 'example' })

    // replacing the entry of a listed peer narrows it, and frees its old name
    p.add({ peerId: stranger, name: 'example2', sources: ['https://ci.example.org'], classes: ['artifact.*'] })
    expect(thrown(() => p.check(check)).details).toMatchObject({ reason: 'class-not-allowed', name: 'example2' })
    expect(p.get('example')).toBeUndefined()
    expect(p.list().map(e => e.name)).toEqual(['onap', 'lf', 'example2'])

    expect(p.remove('example2')).toBe(true)
    expect(thrown(() => p.check(check)).details).toMatchObject({ reason: 'unknown-signer' })
    expect(p.remove('example2')).toBe(false)
  })

  it('removes by peer ID as well as by name', () => {
    const p = policy()
    expect(p.remove(onap)).toBe(true)
    expect(p.get('onap')).toBeUndefined()
    expect(p.nameOf(onap)).toBeUndefined()
    // the name is free again
    expect(p.add({ peerId: stranger, name: 'onap', sources: ['*'] }).name).toBe('onap')
  })

  it('switches mode', () => {
    const p = policy()
    expect(p.mode).toBe('allowlist')
    p.setMode('open')
    expect(p.mode).toBe('open')
    expect(p.check({ origin: stranger, source: 'x', eventClass: 'build.started' })).toEqual({ trusted: false })
    p.setMode('allowlist')
    expect(() => p.check({ origin: stranger, source: 'x', eventClass: 'build.started' })).toThrow(UntrustedSignerError)
  })

  it('hands out copies: editing a returned entry changes nothing', () => {
    const p = policy()
    const entry = p.get('onap')
    expect(entry).toBeDefined()
    entry?.sources.push('*')
    p.list()[0]?.classes.push('*')
    expect(() => p.check({ origin: onap, source: 'https://other/', eventClass: 'build.started' })).toThrow(UntrustedSignerError)
  })
})

describe('TrustPolicy lookups', () => {
  it('gets by peer ID or name and names peers', () => {
    const p = policy()
    expect(p.get(onap)?.name).toBe('onap')
    expect(p.get('onap')?.peerId).toBe(onap)
    expect(p.get('nobody')).toBeUndefined()
    expect(p.nameOf(lf)).toBe('lf')
    expect(p.nameOf(self)).toBe('self')
    expect(p.nameOf(stranger)).toBeUndefined()
  })

  it('defaults to allowlist mode with an empty list', () => {
    const p = new TrustPolicy({ selfPeerId: self })
    expect(p.mode).toBe('allowlist')
    expect(p.list()).toEqual([])
    expect(() => p.check({ origin: onap, source: 'x', eventClass: 'build.started' })).toThrow(UntrustedSignerError)
  })
})

describe('TrustPolicy validation', () => {
  it('refuses a name held by another peer', () => {
    const err = thrown(() => policy().add({ peerId: stranger, name: 'onap', sources: ['*'] }))
    expect(err.code).toBe('CDG_INVALID_REQUEST')
    expect(err).toBeInstanceOf(InvalidRequestError)
    expect(err.details).toEqual({ field: 'name' })
  })

  it("refuses this node's own peer ID", () => {
    const err = thrown(() => policy().add({ peerId: self, name: 'me', sources: ['*'] }))
    expect(err.code).toBe('CDG_INVALID_REQUEST')
    expect(err.details).toEqual({ field: 'peerId' })
  })

  it('refuses a bad mode', () => {
    const err = thrown(() => policy().setMode('closed' as 'open'))
    expect(err).toBeInstanceOf(InvalidTrustEntryError)
    expect(err.details).toEqual({ field: 'mode' })
    expect(thrown(() => new TrustPolicy({ selfPeerId: self }, { mode: 'strict' as 'open' })).details).toEqual({ field: 'mode' })
  })

  it('refuses a config listing one peer twice or a bad entry', () => {
    const twice = thrown(() => new TrustPolicy({ selfPeerId: self }, {
      entries: [{ peerId: onap, name: 'a', sources: ['*'] }, { peerId: onap, name: 'b', sources: ['*'] }]
    }))
    expect(twice.code).toBe('CDG_INVALID_REQUEST')
    expect(twice.details).toEqual({ field: 'entries[1].peerId' })
    const bad = thrown(() => new TrustPolicy({ selfPeerId: self }, { entries: [{ peerId: onap, name: 'a', sources: [] }] }))
    expect(bad.details).toEqual({ field: 'entries[0].sources' })
  })

  it('leaves the list unchanged when an add fails', () => {
    const p = policy()
    thrown(() => p.add({ peerId: onap, name: 'lf', sources: ['*'] }))
    expect(p.get(onap)?.name).toBe('onap')
    expect(p.get('lf')?.peerId).toBe(lf)
  })

  it('bounds the list, but still lets a listed peer be replaced', () => {
    const p = new TrustPolicy({ selfPeerId: self }, { maxEntries: 1, entries: [{ peerId: onap, name: 'onap', sources: ['*'] }] })
    expect(thrown(() => p.add({ peerId: lf, name: 'lf', sources: ['*'] })).code).toBe('CDG_INVALID_REQUEST')
    expect(p.add({ peerId: onap, name: 'onap', sources: ['urn:onap:'] }).sources).toEqual(['urn:onap:'])
  })
})

describe('sourceHasPrefix', () => {
  it.each([
    ['https://ci.example.org/job/1', 'https://ci.example.org', true],
    ['https://ci.example.org', 'https://ci.example.org', true],
    ['https://ci.example.org:8443/x', 'https://ci.example.org', true],
    ['https://ci.example.org?x', 'https://ci.example.org', true],
    ['https://ci.example.org.evil/x', 'https://ci.example.org', false],
    ['/ci/onapx', '/ci/onap', false],
    ['/ci/onap/x', '/ci/onap/', true],
    ['urn:onap:ci', 'urn:onap:', true],
    ['urn:onapx', 'urn:onap', false],
    ['anything', '*', true],
    ['https://other', 'https://ci', false]
  ])('%s under %s → %s', (source, prefix, expected) => {
    expect(sourceHasPrefix(source, prefix)).toBe(expected)
  })
})
