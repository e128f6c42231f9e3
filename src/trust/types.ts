import type { EventClass } from '../events/types.js'

/**
 * One community this node accepts events from, named by exactly one of `peerId` (its one node's
 * key) or `community` (a root key of its signed manifest: every node listed there is trusted).
 */
export interface TrustEntry {
  /** the community's peer ID (Ed25519), the DSSE keyid of everything it signs */
  peerId?: string
  /**
   * a root key (peer-ID form) of the community's manifest: any root key the manifest chain went
   * through; each node it lists is trusted within this entry's AND the node's own scopes
   */
  community?: string
  /** human name shown in queries, peers and logs, e.g. `onap` */
  name: string
  /** CloudEvent `source` prefixes it may sign for; `*` means any source */
  sources: string[]
  /** class patterns it may publish (`*`, `artifact.*`, `pipelinerun.finished`); default all */
  classes: string[]
}

/**
 * `allowlist`: only listed communities, within their sources and classes.
 * `open`: any valid signature is accepted; events outside the allow-list are marked untrusted.
 */
export type TrustMode = 'allowlist' | 'open'

export interface TrustVerdict {
  trusted: boolean
  /** trust name of the signer when known (`self` for this node) */
  name?: string
}

export interface TrustCheck {
  origin: string
  source: string
  eventClass: EventClass
}

/** What the held community manifests say of one signer, as the policy reads it. */
export interface CommunityMembershipFacts {
  /** every root key of the community, genesis first; a trust entry may name any */
  rootKeys: readonly string[]
  /** the node's scopes in the current manifest; undefined once revoked */
  node?: { sources?: readonly string[], classes?: readonly string[] }
  /** set once a manifest revoking the signer is known */
  revoked?: { version: number, since: string }
}

/** The memberships of a signer in the communities this node holds manifests of (none: `[]`). */
export type MembershipLookup = (peerId: string) => readonly CommunityMembershipFacts[]
