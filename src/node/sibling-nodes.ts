import { CdgossipError } from '../errors.js'
import type { CommunityDirectoryReader, CommunityView } from '../contracts/community.js'

/** What this node needs of its community's manifest: the community and its nodes, in manifest order. */
export interface OwnCommunity {
  /** the community id (its genesis root key) */
  id: string
  name: string
  /** node peer IDs in manifest order, revoked ones left out; this node is one of them */
  members: readonly string[]
}

/**
 * The other nodes of this node's community. They are trusted like this node, replicate its
 * records and it theirs, and share the sink lease. A node without `community.manifest` has none.
 */
export class SiblingNodes {
  readonly self: string
  readonly membership: OwnCommunity | undefined
  private readonly members: ReadonlySet<string>

  constructor (self: string, membership?: OwnCommunity) {
    if (membership !== undefined && !membership.members.includes(self)) {
      throw new CdgossipError('CDG_CONFIG', `this node (${self}) is not a node of community ${membership.name} (${membership.id}): its manifest lists ${membership.members.join(', ') || 'no nodes'}; add it with \`cdgossip community add-node --peer-id ${self}\` and copy the exported manifest here`)
    }
    this.self = self
    this.membership = membership
    this.members = new Set(membership?.members ?? [self])
  }

  /** one of the other nodes of this community */
  isSibling (peerId: string): boolean {
    return peerId !== this.self && this.members.has(peerId)
  }

  /** this node or one of its siblings */
  isMember (peerId: string): boolean {
    return this.members.has(peerId)
  }

  /** the other nodes, in manifest order */
  siblings (): string[] {
    return (this.membership?.members ?? []).filter(peerId => peerId !== this.self)
  }

  /** every node of the community, this one included, in manifest order */
  order (): readonly string[] {
    return this.membership?.members ?? [this.self]
  }
}

/**
 * Whether two signers sign for one community: both nodes of this node's own, or both listed (not
 * revoked) in one community the directory holds. Of a community this node does not hold it knows
 * nothing, so two copies of one event signed by its nodes stay a conflict here.
 */
export function sameCommunity (siblings: SiblingNodes, directory: Pick<CommunityDirectoryReader, 'membershipsOf'> | undefined, a: string, b: string): boolean {
  if (siblings.isMember(a) && siblings.isMember(b)) return true
  if (directory === undefined) return false
  const listed = (peerId: string): string[] => directory.membershipsOf(peerId).flatMap(m => m.node === undefined ? [] : [m.id])
  const ofA = listed(a)
  return ofA.length > 0 && listed(b).some(id => ofA.includes(id))
}

/** This node's community as the directory holds it (config `community.manifest`, or a newer version since). */
export function ownCommunity (directory: { list: () => CommunityView[] }): OwnCommunity | undefined {
  const own = directory.list().find(c => c.own)
  return own === undefined ? undefined : { id: own.id, name: own.name, members: own.nodes.map(node => node.peerId) }
}
