import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { addNode, genesisChain, revokeNode, rotateRoot, type VerifiedChain } from '../../src/community/index.js'
import type { CommunityChange } from '../../src/contracts/community.js'
import { CommunityDirectory, type PersistedCommunity } from '../../src/node/community-directory.js'
import { openStore } from '../store/fixtures.js'

async function key (): Promise<{ key: PrivateKey, id: string }> {
  const k = await generateKeyPair('Ed25519')
  return { key: k, id: peerIdFromPrivateKey(k).toString() }
}

async function setup (trusted: string[], init: { maxCommunities?: number, self?: string } = {}): Promise<{ directory: CommunityDirectory, reopen: () => Promise<CommunityDirectory>, trusted: Set<string>, changes: CommunityChange[] }> {
  const { store } = await openStore()
  const keys = new Set(trusted)
  const changes: CommunityChange[] = []
  let clock = 0
  const make = (): CommunityDirectory => {
    const d = new CommunityDirectory({
      section: store.section<PersistedCommunity>('communities'),
      trustedRootKeys: () => keys,
      selfPeerId: init.self ?? 'self',
      now: () => new Date(Date.UTC(2026, 11, 2, 18, 0, clock++))
    }, init.maxCommunities === undefined ? {} : { maxCommunities: init.maxCommunities })
    d.onChange(change => { changes.push(change) })
    return d
  }
  const directory = make()
  await directory.load()
  return { directory, trusted: keys, changes, reopen: async () => { const d = make(); await d.load(); return d } }
}

function listing (root: PrivateKey, nodes: string[], name = 'onap'): VerifiedChain {
  return nodes.reduce((held, peerId) => addNode(held, root, { peerId, ...(peerId === nodes[0] ? {} : { sources: ['urn:onap:'] }) }), genesisChain(name, root))
}

describe('CommunityDirectory', () => {
  it('holds a trusted community, answers memberships, and keeps it across a reload', async () => {
    const [root, n1, n2] = await Promise.all([key(), key(), key()])
    const { directory, reopen, changes } = await setup([root.id])
    const v3 = listing(root.key, [n1.id, n2.id])
    expect(await directory.offer(v3.chain)).toEqual({ status: 'accepted', id: root.id, version: 3 })
    expect(await directory.offer(v3.chain)).toEqual({ status: 'unchanged', id: root.id, version: 3 })
    expect(directory.communityOf(n2.id)).toEqual({ id: root.id, name: 'onap', rootKeys: [root.id], node: { sources: ['urn:onap:'] } })
    expect(directory.nodesOf(root.id).map(n => n.peerId)).toEqual([n1.id, n2.id])
    expect(changes).toEqual([{ id: root.id, version: 3, added: [n1.id, n2.id], removed: [], revoked: [] }])

    const again = await reopen()
    expect(again.list()).toEqual(directory.list())
    expect(again.communityOf(n1.id)?.node).toEqual({})
  })

  it('does not keep a valid community no trust entry names, unless it lists this node', async () => {
    const [root, other, n1] = await Promise.all([key(), key(), key()])
    const { directory } = await setup([other.id], { self: n1.id })
    const chain = listing(root.key, [n1.id]).chain
    expect(await directory.offer(chain)).toMatchObject({ status: 'unrequested' })
    expect(directory.list()).toEqual([])
    expect(await directory.offer(chain, { own: 'if-listed' })).toMatchObject({ status: 'accepted' })
    expect(directory.ownChain()).toEqual(chain)
  })

  it('dates a revocation by when it learned it and reports the change', async () => {
    const [root, n1, n2] = await Promise.all([key(), key(), key()])
    const { directory, changes } = await setup([root.id])
    const v3 = listing(root.key, [n1.id, n2.id])
    await directory.offer(v3.chain)
    await directory.offer(revokeNode(v3, root.key, n2.id, 'leaked').chain)
    const since = directory.revokedSince(n2.id)
    expect(since).toBe('2026-12-02T18:00:01.000Z')
    expect(directory.communityOf(n2.id)).toEqual({ id: root.id, name: 'onap', rootKeys: [root.id], revoked: { version: 4, since } })
    expect(changes.at(-1)).toEqual({ id: root.id, version: 4, added: [], removed: [n2.id], revoked: [n2.id] })
    expect(directory.list()[0]?.revoked).toEqual([{ peerId: n2.id, version: 4, reason: 'leaked', since }])
  })

  it('follows a rotation from a trusted old root key and refuses a fork signed by the old root alone', async () => {
    const [oldRoot, newRoot, n1, n2] = await Promise.all([key(), key(), key(), key()])
    const { directory } = await setup([oldRoot.id])
    const v2 = listing(oldRoot.key, [n1.id])
    await directory.offer(v2.chain)
    const v3 = rotateRoot(v2, oldRoot.key, newRoot.key)
    expect(await directory.offer(v3.chain)).toMatchObject({ status: 'accepted', version: 3 })
    expect(directory.communityOf(n1.id)?.rootKeys).toEqual([oldRoot.id, newRoot.id])
    const fork = addNode(addNode(v2, oldRoot.key, { peerId: n2.id }), oldRoot.key, { peerId: n2.id, classes: ['artifact.*'] })
    const outcome = await directory.offer(fork.chain)
    expect(outcome.status).toBe('forked')
    expect('error' in outcome && outcome.error.code).toBe('CDG_INVALID_MANIFEST')
    expect((await directory.offer(v2.chain)).status).toBe('stale')
    expect((await directory.offer([{ payload: 'e30=', signatures: [] }])).status).toBe('invalid')
    expect(directory.communityOf(n2.id)).toBeUndefined()
  })

  it('is bounded and forgets communities no entry names any more', async () => {
    const [a, b] = await Promise.all([key(), key()])
    const { directory, trusted } = await setup([a.id, b.id], { maxCommunities: 1 })
    await directory.offer(genesisChain('a', a.key).chain)
    await expect(directory.offer(genesisChain('b', b.key).chain)).rejects.toMatchObject({ code: 'CDG_INVALID_REQUEST' })
    trusted.delete(a.id)
    expect(await directory.prune()).toEqual([a.id])
    expect(directory.list()).toEqual([])
  })
})
