/**
 * What the node knows of communities (root-key-signed manifests of node keys), as the shapes the
 * trust policy, the API and the multi-node parts read. The directory that holds the verified
 * manifest chains lives in src/node/community-directory.ts; these are its read side.
 */

/** Scopes a manifest gives one node; absent means no narrowing beyond the trust entry's. */
export interface CommunityNodeScopes {
  sources?: string[]
  classes?: string[]
}

export interface CommunityNodeView extends CommunityNodeScopes {
  peerId: string
}

export interface CommunityRevocationView {
  peerId: string
  /** the manifest version that revoked it */
  version: number
  reason?: string
  /** when THIS node first learned of the revocation (RFC 3339): records arriving after it are refused */
  since: string
}

/** One held community (GET /v1/communities). */
export interface CommunityView {
  /** the genesis root key: the community's stable id */
  id: string
  name: string
  version: number
  issuedAt: string
  /** the current root key */
  rootKey: string
  /** every root key the chain went through, genesis first (a trust entry may name any of them) */
  rootKeys: string[]
  nodes: CommunityNodeView[]
  revoked: CommunityRevocationView[]
  /** this node's own community (config `community.manifest`) */
  own: boolean
}

/** What a held community says of one peer ID. */
export interface CommunityMembership {
  /** the community id (genesis root key) */
  id: string
  name: string
  /** every root key of the community, genesis first */
  rootKeys: readonly string[]
  /** its scopes while listed in the current manifest; undefined when revoked */
  node?: CommunityNodeScopes
  /** set once a manifest revoking it is known */
  revoked?: { version: number, since: string }
}

/** Why the directory changed: a newer manifest of a community, or a community it now holds. */
export interface CommunityChange {
  id: string
  version: number
  /** peer IDs listed now that were not before (new community: every node) */
  added: string[]
  /** peer IDs no longer listed, revoked or removed */
  removed: string[]
  /** peer IDs revoked by this change */
  revoked: string[]
}

/**
 * The node-level directory other parts read (trust policy lookups, the multi-node replication):
 * a peer's community, a community's nodes, and a change event.
 */
export interface CommunityDirectoryReader {
  /** the held community listing (or having revoked) this peer ID; own community first */
  communityOf(peerId: string): CommunityMembership | undefined
  /** every held community that lists or revoked this peer ID */
  membershipsOf(peerId: string): readonly CommunityMembership[]
  /** the nodes of the current manifest (empty when the community is not held) */
  nodesOf(communityId: string): CommunityNodeView[]
  /** called after each accepted change; returns the unsubscribe */
  onChange(listener: (change: CommunityChange) => void): () => void
}

/** POST /v1/community/manifests: the version now held (`unchanged`: it was held already). */
export interface CommunityPublishResult {
  id: string
  version: number
  status: 'accepted' | 'unchanged'
}
