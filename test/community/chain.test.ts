import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  MAX_MANIFEST_BYTES,
  MAX_MANIFEST_NODES,
  MAX_ROOT_ROTATIONS,
  acceptChain,
  acceptManifest,
  addNode,
  encodeManifest,
  genesisChain,
  membership,
  removeNode,
  revokeNode,
  rotateRoot,
  signManifest,
  verifyChain,
  verifyManifestChain,
  type CommunityManifest,
  type SignedManifest,
  type VerifiedChain
} from '../../src/community/index.js'
import { isCdgossipError } from '../../src/errors.js'

const T0 = new Date('2026-12-01T10:00:00Z')

function idOf (key: PrivateKey): string {
  return peerIdFromPrivateKey(key).toString()
}

function expectCode (fn: () => unknown, code: string, message?: RegExp): void {
  let thrown: unknown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  expect(isCdgossipError(thrown), String(thrown)).toBe(true)
  if (!isCdgossipError(thrown)) return
  expect(thrown.code, thrown.message).toBe(code)
  if (message !== undefined) expect(thrown.message).toMatch(message)
}

/** the manifest inside a signed one, for building forged successors */
function payloadOf (signed: SignedManifest): CommunityManifest {
  return JSON.parse(Buffer.from(signed.payload, 'base64').toString('utf8')) as CommunityManifest
}

let root1: PrivateKey
let root2: PrivateKey
let root3: PrivateKey
let nodeA: PrivateKey
let nodeB: PrivateKey

beforeAll(async () => {
  root1 = await generateKeyPair('Ed25519')
  root2 = await generateKeyPair('Ed25519')
  root3 = await generateKeyPair('Ed25519')
  nodeA = await generateKeyPair('Ed25519')
  nodeB = await generateKeyPair('Ed25519')
})

describe('community manifests', () => {
  it('signs a genesis whose id is the root key, and verifies it from that key', () => {
    const genesis = genesisChain('onap', root1, T0)
    expect(genesis.manifest).toEqual({ format: 1, community: 'onap', id: idOf(root1), version: 1, issuedAt: T0.toISOString(), rootKey: idOf(root1), nodes: [], revoked: [] })
    expect(genesis.chain).toHaveLength(1)
    expect(genesis.chain[0]!.signatures).toEqual([{ keyid: idOf(root1), sig: expect.any(String) }])
    expect(Buffer.from(genesis.chain[0]!.payload, 'base64').toString()).toBe(encodeManifest(genesis.manifest))
    expect(verifyManifestChain(genesis.chain, idOf(root1))).toEqual(genesis.manifest)
  })

  it('adds, rescopes, removes and revokes nodes, each a new version, and answers membership', () => {
    let held = genesisChain('onap', root1, T0)
    held = addNode(held, root1, { peerId: idOf(nodeA), sources: ['https://ci.onap.org/'] })
    held = addNode(held, root1, { peerId: idOf(nodeB) })
    held = addNode(held, root1, { peerId: idOf(nodeA), classes: ['artifact.*'] })
    expect(held.manifest.version).toBe(4)
    expect(held.manifest.nodes).toEqual([{ peerId: idOf(nodeA), classes: ['artifact.*'] }, { peerId: idOf(nodeB) }])
    // only the genesis and the latest: nothing between them is a rotation
    expect(held.chain).toHaveLength(2)

    held = revokeNode(held, root1, idOf(nodeB), 'laptop stolen')
    expect(held.manifest.nodes.map(n => n.peerId)).toEqual([idOf(nodeA)])
    expect(membership(held.manifest, idOf(nodeB))).toEqual({ status: 'revoked', revocation: { peerId: idOf(nodeB), version: 5, reason: 'laptop stolen' } })
    expect(membership(held.manifest, idOf(nodeA))).toEqual({ status: 'node', node: { peerId: idOf(nodeA), classes: ['artifact.*'] } })
    expect(membership(held.manifest, idOf(root2))).toBeUndefined()
    expectCode(() => addNode(held, root1, { peerId: idOf(nodeB) }), 'CDG_INVALID_MANIFEST', /revoked in version 5/)
    expectCode(() => revokeNode(held, root1, idOf(nodeB)), 'CDG_INVALID_MANIFEST', /already revoked/)

    held = removeNode(held, root1, idOf(nodeA))
    expect(held.manifest.nodes).toEqual([])
    expectCode(() => removeNode(held, root1, idOf(nodeA)), 'CDG_INVALID_MANIFEST', /not a node/)
    expect(verifyManifestChain(held.chain, idOf(root1))).toEqual(held.manifest)
  })

  it('refuses a stale or replayed manifest, and a manifest of another community', () => {
    const v1 = genesisChain('onap', root1, T0)
    const v2 = addNode(v1, root1, { peerId: idOf(nodeA) })
    const v3 = addNode(v2, root1, { peerId: idOf(nodeB) })
    expectCode(() => acceptManifest(v3, v2.chain[1]), 'CDG_STALE_MANIFEST', /older than the held version 3/)
    expectCode(() => acceptManifest(v3, v3.chain[1]), 'CDG_STALE_MANIFEST', /already held/)
    expectCode(() => acceptChain(v3, v2.chain), 'CDG_STALE_MANIFEST')
    const other = addNode(genesisChain('tekton', root2, T0), root2, { peerId: idOf(nodeA) })
    expectCode(() => acceptManifest(v1, other.chain[1]), 'CDG_INVALID_MANIFEST', /of community/)
    // before any rotation, a manifest is signed by the community id and verifies alone
    expect(acceptManifest(undefined, v2.chain[1]).manifest).toEqual(v2.manifest)
    // after one, a manifest alone cannot be verified from nothing: it needs its chain
    const rotated = rotateRoot(v3, root1, root2)
    expectCode(() => acceptManifest(undefined, rotated.chain[1]), 'CDG_INVALID_MANIFEST', /send the chain from the genesis/)
  })

  it('refuses a manifest signed by a key that is not its root key, and a tampered payload', () => {
    const v1 = genesisChain('onap', root1, T0)
    const forged = signManifest({ ...v1.manifest, version: 2, nodes: [{ peerId: idOf(nodeA) }] }, [nodeA])
    expectCode(() => acceptManifest(v1, forged), 'CDG_INVALID_MANIFEST', /not a root key this manifest needs/)

    const good = addNode(v1, root1, { peerId: idOf(nodeA) }).chain[1]!
    const tampered: SignedManifest = {
      ...good,
      payload: Buffer.from(encodeManifest({ ...payloadOf(good), nodes: [{ peerId: idOf(nodeB) }] })).toString('base64')
    }
    expectCode(() => acceptManifest(v1, tampered), 'CDG_INVALID_MANIFEST', /does not verify/)
    expectCode(() => acceptManifest(v1, { ...good, signatures: [] }), 'CDG_INVALID_MANIFEST', /signatures must list/)
    // the same manifest spelt differently (whitespace) is not its canonical encoding
    const respelt: SignedManifest = { ...good, payload: Buffer.from(JSON.stringify(payloadOf(good), null, 1)).toString('base64') }
    expectCode(() => acceptManifest(v1, respelt), 'CDG_INVALID_MANIFEST', /canonical/)
    expect(acceptManifest(v1, good).manifest.version).toBe(2)
  })

  it('rotates the root key with both signatures, and keeps trust from either root key', () => {
    let held = addNode(genesisChain('onap', root1, T0), root1, { peerId: idOf(nodeA) })
    held = rotateRoot(held, root1, root2)
    expect(held.manifest).toMatchObject({ version: 3, id: idOf(root1), rootKey: idOf(root2), previousRootKey: idOf(root1) })
    expect(held.chain[1]!.signatures.map(s => s.keyid).sort()).toEqual([idOf(root1), idOf(root2)].sort())
    held = addNode(held, root2, { peerId: idOf(nodeB) })
    expect(held.manifest.previousRootKey).toBeUndefined()
    expect(held.chain).toHaveLength(3)
    expect(held.rootKeys).toEqual([idOf(root1), idOf(root2)])

    // a node that trusts the genesis key and one that trusts the new key both get version 4
    expect(verifyManifestChain(held.chain, idOf(root1)).version).toBe(4)
    expect(verifyManifestChain(held.chain, idOf(root2)).version).toBe(4)
    expectCode(() => verifyChain(held.chain, idOf(root3)), 'CDG_INVALID_MANIFEST', /does not pass through the trusted root key/)

    // a node holding version 2 follows the chain without any change on its side
    const old = addNode(genesisChain('onap', root1, T0), root1, { peerId: idOf(nodeA) })
    expect(acceptChain(verifyChain(old.chain, idOf(root1)), held.chain).manifest.version).toBe(4)
  })

  it('refuses a rotation signed by only one of the two root keys', () => {
    const held = genesisChain('onap', root1, T0)
    const rotation = { ...held.manifest, version: 2, rootKey: idOf(root2), previousRootKey: idOf(root1) }
    expectCode(() => acceptManifest(held, signManifest(rotation, [root2])), 'CDG_INVALID_MANIFEST', new RegExp(`not signed by root key ${idOf(root1)}`))
    expectCode(() => acceptManifest(held, signManifest(rotation, [root1])), 'CDG_INVALID_MANIFEST', new RegExp(`not signed by root key ${idOf(root2)}`))
    // a rotation must say which key it replaces
    const unnamed: CommunityManifest = { ...rotation }
    delete unnamed.previousRootKey
    expectCode(() => acceptManifest(held, signManifest(unnamed, [root1, root2])), 'CDG_INVALID_MANIFEST', /previousRootKey/)
  })

  it('refuses, after a rotation, a manifest signed by the retired root alone, also as a forked chain', () => {
    const before = addNode(genesisChain('onap', root1, T0), root1, { peerId: idOf(nodeA) })
    const after = rotateRoot(before, root1, root2)
    // whoever kept (or stole) root1 signs version 9 as if nothing had happened
    const retiredAlone = signManifest({ ...before.manifest, version: 9, nodes: [{ peerId: idOf(nodeB) }] }, [root1])
    expectCode(() => acceptManifest(after, retiredAlone), 'CDG_INVALID_MANIFEST', /retired/)
    // and "rotates" back to it with the retired key's signature only
    const back = signManifest({ ...after.manifest, version: 9, rootKey: idOf(root1), previousRootKey: idOf(root2) }, [root1])
    expectCode(() => acceptManifest(after, back), 'CDG_INVALID_MANIFEST', /retired/)
    // the fork verifies from root1 alone, but not for a node that holds the rotation
    const fork = [before.chain[0]!, retiredAlone]
    expect(verifyManifestChain(fork, idOf(root1)).version).toBe(9)
    expectCode(() => acceptChain(after, fork), 'CDG_INVALID_MANIFEST', /does not pass through/)
  })

  it('refuses chains that are out of order, hold non-rotation manifests between, or do not start at the genesis', () => {
    let held = genesisChain('onap', root1, T0)
    held = addNode(held, root1, { peerId: idOf(nodeA) })
    const v2 = held.chain[1]!
    held = rotateRoot(held, root1, root2)
    const v3 = held.chain[1]!
    held = addNode(held, root2, { peerId: idOf(nodeB) })
    const [genesis, , v4] = held.chain as [SignedManifest, SignedManifest, SignedManifest]
    expectCode(() => verifyChain([genesis, v2, v3, v4], idOf(root1)), 'CDG_INVALID_MANIFEST', /neither a root rotation nor the latest/)
    expectCode(() => verifyChain([genesis, v4, v3], idOf(root1)), 'CDG_INVALID_MANIFEST')
    expectCode(() => verifyChain([v3, v4], idOf(root2)), 'CDG_INVALID_MANIFEST', /send the chain from the genesis/)
    expectCode(() => verifyChain([], idOf(root1)), 'CDG_INVALID_MANIFEST', /1\.\.66/)
    expectCode(() => verifyChain('not a chain', idOf(root1)), 'CDG_INVALID_MANIFEST')
    expect(verifyChain([genesis, v2], idOf(root1)).manifest.version).toBe(2)
  })

  it(`refuses more than ${MAX_ROOT_ROTATIONS} root rotations`, async () => {
    let key = root1
    let held = genesisChain('onap', key, T0)
    for (let i = 0; i < MAX_ROOT_ROTATIONS; i++) {
      const next = await generateKeyPair('Ed25519')
      held = rotateRoot(held, key, next)
      key = next
    }
    expect(held.chain).toHaveLength(MAX_ROOT_ROTATIONS + 1)
    expect(verifyManifestChain(held.chain, idOf(root1)).version).toBe(MAX_ROOT_ROTATIONS + 1)
    held = addNode(held, key, { peerId: idOf(nodeA) })
    expect(verifyManifestChain(held.chain, idOf(root1)).version).toBe(MAX_ROOT_ROTATIONS + 2)
    const one = await generateKeyPair('Ed25519')
    expectCode(() => rotateRoot(held, key, one), 'CDG_INVALID_MANIFEST', /rotated its root key 64 times/)
  })

  it('bounds the payload and the node list, and validates scopes like trust entries', () => {
    const held = genesisChain('onap', root1, T0)
    const base = { ...held.manifest, version: 2 }
    const many = Array.from({ length: MAX_MANIFEST_NODES + 1 }, () => ({ peerId: idOf(nodeA) }))
    expectCode(() => signManifest({ ...base, nodes: many }, [root1]), 'CDG_INVALID_MANIFEST', /at most 1000/)
    const sources = Array.from({ length: 64 }, (_, i) => `https://${'x'.repeat(1000)}/${i}`)
    expectCode(() => signManifest({ ...base, nodes: [{ peerId: idOf(nodeA), sources }, { peerId: idOf(nodeB), sources }] }, [root1]),
      'CDG_INVALID_MANIFEST', new RegExp(`over the ${MAX_MANIFEST_BYTES}-byte limit`))
    expectCode(() => signManifest({ ...base, nodes: [{ peerId: idOf(nodeA), classes: ['artefact.*'] }] }, [root1]), 'CDG_INVALID_MANIFEST', /nodes\[0\]\.classes\[0\]/)
    expectCode(() => signManifest({ ...base, nodes: [{ peerId: idOf(nodeA), sources: [] }] }, [root1]), 'CDG_INVALID_MANIFEST', /nodes\[0\]\.sources/)
    expectCode(() => signManifest({ ...base, nodes: [{ peerId: 'QmNotAnEd25519Key' }] }, [root1]), 'CDG_INVALID_MANIFEST', /Ed25519 peer ID/)
    expectCode(() => signManifest({ ...base, nodes: [{ peerId: idOf(nodeA) }, { peerId: idOf(nodeA) }] }, [root1]), 'CDG_INVALID_MANIFEST', /listed twice/)
    expectCode(() => signManifest({ ...base, nodes: [{ peerId: idOf(root1) }] }, [root1]), 'CDG_INVALID_MANIFEST', /keep root keys offline/)
    expectCode(() => signManifest({ ...base, community: 'self' }, [root1]), 'CDG_INVALID_MANIFEST', /reserved/)
    expectCode(() => genesisChain('bad name!', root1), 'CDG_INVALID_MANIFEST', /community must match/)

    // a hostile payload over the bound is refused before it is decoded
    const huge: SignedManifest = { payload: 'A'.repeat(MAX_MANIFEST_BYTES * 2), signatures: held.chain[0]!.signatures }
    expectCode(() => acceptManifest(held, huge), 'CDG_INVALID_MANIFEST', /at most 65536 bytes/)
  })

  it('leaves the held chain as it was when a manifest is refused', () => {
    const held: VerifiedChain = genesisChain('onap', root1, T0)
    const copy = structuredClone(held)
    expectCode(() => acceptManifest(held, signManifest({ ...held.manifest, version: 2 }, [root2])), 'CDG_INVALID_MANIFEST')
    expect(held).toEqual(copy)
  })
})
