import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { acceptManifest, type VerifiedChain } from './chain.js'
import { InvalidManifestError } from './errors.js'
import { MANIFEST_FORMAT, membership, type CommunityManifest, type ManifestNode } from './manifest.js'
import { signManifest } from './signed-manifest.js'

/**
 * The edits the root key holder makes (`cdgossip community …`): each one builds the next version
 * from the held chain, signs it and checks it as a node would (acceptManifest), so nothing the
 * command line writes is something nodes refuse.
 */

/** The first manifest of a new community: `rootKey` is its id; no nodes yet. */
export function genesisChain (community: string, rootKey: PrivateKey, now = new Date()): VerifiedChain {
  const id = peerIdFromPrivateKey(rootKey).toString()
  const manifest: CommunityManifest = { format: MANIFEST_FORMAT, community, id, version: 1, issuedAt: now.toISOString(), rootKey: id, nodes: [], revoked: [] }
  return acceptManifest(undefined, signManifest(manifest, [rootKey]))
}

/** Add a node key, or replace the scopes of one already listed. A revoked key cannot come back. */
export function addNode (held: VerifiedChain, rootKey: PrivateKey, node: ManifestNode, now = new Date()): VerifiedChain {
  const current = held.manifest
  const found = membership(current, node.peerId)
  if (found?.status === 'revoked') {
    throw new InvalidManifestError('peerId', `node key ${node.peerId} was revoked in version ${found.revocation.version}; a revoked key cannot be added again, give the node a new key`)
  }
  const nodes = found === undefined ? [...current.nodes, node] : current.nodes.map(n => n.peerId === node.peerId ? node : n)
  return next(held, rootKey, { nodes }, now)
}

/** Take a node key off the list (the node left; nothing suggests its key leaked: see revoke). */
export function removeNode (held: VerifiedChain, rootKey: PrivateKey, peerId: string, now = new Date()): VerifiedChain {
  if (membership(held.manifest, peerId)?.status !== 'node') throw new InvalidManifestError('peerId', `${peerId} is not a node of community ${held.manifest.community}`)
  return next(held, rootKey, { nodes: held.manifest.nodes.filter(n => n.peerId !== peerId) }, now)
}

/** Revoke a node key (listed or not): records it signs from now on are refused. Never withdrawn. */
export function revokeNode (held: VerifiedChain, rootKey: PrivateKey, peerId: string, reason?: string, now = new Date()): VerifiedChain {
  const current = held.manifest
  const found = membership(current, peerId)
  if (found?.status === 'revoked') throw new InvalidManifestError('peerId', `${peerId} is already revoked (version ${found.revocation.version})`)
  const version = current.version + 1
  return next(held, rootKey, {
    nodes: current.nodes.filter(n => n.peerId !== peerId),
    revoked: [...current.revoked, { peerId, version, ...(reason === undefined ? {} : { reason }) }]
  }, now)
}

/** Hand the community to `newRootKey`: the rotation manifest is signed by the current and the new root key. */
export function rotateRoot (held: VerifiedChain, rootKey: PrivateKey, newRootKey: PrivateKey, now = new Date()): VerifiedChain {
  const current = held.manifest
  const manifest: CommunityManifest = {
    ...current,
    version: current.version + 1,
    issuedAt: now.toISOString(),
    rootKey: peerIdFromPrivateKey(newRootKey).toString(),
    previousRootKey: current.rootKey
  }
  return acceptManifest(held, signManifest(manifest, [newRootKey, rootKey]))
}

function next (held: VerifiedChain, rootKey: PrivateKey, change: Pick<Partial<CommunityManifest>, 'nodes' | 'revoked'>, now: Date): VerifiedChain {
  const manifest: CommunityManifest = { ...held.manifest, ...change, version: held.manifest.version + 1, issuedAt: now.toISOString() }
  // only a rotation manifest names the root key it replaces
  delete manifest.previousRootKey
  return acceptManifest(held, signManifest(manifest, [rootKey]))
}
