import type { Logger } from 'pino'
import { acceptChain, InvalidManifestError, openSignedManifest, StaleManifestError, verifyChain } from '../community/index.js'
import type { CommunityManifest, SignedManifest, VerifiedChain } from '../community/index.js'
import type { CommunityChange, CommunityDirectoryReader, CommunityMembership, CommunityNodeView, CommunityView } from '../contracts/community.js'
import type { StateSection } from '../contracts/state-section.js'
import { InvalidRequestError } from '../errors.js'

/**
 * Communities held at most. Only communities a trust entry names (or this node's own) are held,
 * so this bounds a token holder adding community entries, not the network.
 * @default 1_024
 */
export const MAX_COMMUNITIES = 1_024

/** What the node persists per community (the `communities` state section), keyed by community id. */
export interface PersistedCommunity {
  chain: SignedManifest[]
  /** peer ID → when this node first learned a manifest revoking it (RFC 3339) */
  revokedSince: Record<string, string>
  own: boolean
}

export interface CommunityDirectoryComponents {
  section: StateSection<PersistedCommunity>
  /** root keys the trust entries name: a community none of them names (and not our own) is not held */
  trustedRootKeys(): ReadonlySet<string>
  /** this node: a chain listing it may be its own community */
  selfPeerId: string
  /** @default () => new Date() */
  now?(): Date
  log?: Logger
}

export interface CommunityDirectoryInit {
  /** @default MAX_COMMUNITIES */
  maxCommunities?: number
}

/**
 * What became of an offered chain. `accepted`: a newer version, or a community newly held;
 * `unchanged`: the version held; `unrequested`: valid, but of a community no trust entry names, so
 * not kept. `invalid`: forged or malformed, for every node alike; `forked`: a valid chain that
 * does not pass through the held current root key (signed by a retired root alone); `stale`: not
 * newer than the held version.
 */
export type OfferOutcome =
  | { status: 'accepted' | 'unchanged' | 'unrequested', id: string, version: number }
  | { status: 'invalid' | 'forked', error: InvalidManifestError }
  | { status: 'stale', error: StaleManifestError }

/**
 * Whether an offered chain is this node's own community's (held whatever the trust entries say,
 * and gossiped): `always` (the config file's), `if-listed` (the operator's, when it lists this
 * node), `never` (from peers). @default 'never'
 */
export type OwnClaim = 'always' | 'if-listed' | 'never'

interface Held {
  verified: VerifiedChain
  revokedSince: Map<string, string>
  own: boolean
}

/**
 * The chain verified from its own genesis: every signature and every rotation as the rules want.
 * What fails here is invalid for every node; whether this node trusts the community is asked next.
 */
function verifyFromGenesis (chain: unknown): VerifiedChain {
  const genesis = Array.isArray(chain) && chain.length > 0 ? openSignedManifest(chain[0], 'chain[0]').manifest.id : ''
  return verifyChain(chain, genesis)
}

/**
 * The node's verified community manifests, one chain per community id (its genesis root key),
 * persisted in a state section. A chain offered by a peer, the API or the config file replaces
 * the held one only when it extends it: every manifest past the held version must be signed by
 * the held root key (and a rotation by the new one too), so a retired root key alone can never
 * fork the community. Revocations are dated by when this node learned them: a signer's claimed
 * time cannot be trusted, arrival here is what the node knows.
 */
export class CommunityDirectory implements CommunityDirectoryReader {
  private readonly components: CommunityDirectoryComponents
  private readonly maxCommunities: number
  private readonly held = new Map<string, Held>()
  /** peer ID → ids of the held communities listing or having revoked it */
  private byPeer = new Map<string, string[]>()
  private readonly listeners = new Set<(change: CommunityChange) => void>()

  constructor (components: CommunityDirectoryComponents, init: CommunityDirectoryInit = {}) {
    this.components = components
    this.maxCommunities = init.maxCommunities ?? MAX_COMMUNITIES
  }

  /** Reads the persisted chains, verifying each again (a damaged entry is dropped with a warning). */
  async load (): Promise<void> {
    for await (const [id, persisted] of this.components.section.entries()) {
      try {
        const verified = verifyChain(persisted.chain, id)
        this.held.set(id, { verified, revokedSince: new Map(Object.entries(persisted.revokedSince)), own: persisted.own })
      } catch (err) {
        this.components.log?.warn({ err, community: id }, 'a persisted community manifest chain no longer verifies; dropped')
        await this.components.section.del(id)
      }
    }
    this.reindex()
  }

  /**
   * Take a chain from outside (genesis first, every rotation, the latest last): a newer version
   * replaces the held one only when it passes through the held current root key.
   */
  async offer (chain: unknown, options: { own?: OwnClaim } = {}): Promise<OfferOutcome> {
    let candidate: VerifiedChain
    try {
      candidate = verifyFromGenesis(chain)
    } catch (err) {
      if (err instanceof InvalidManifestError) return { status: 'invalid', error: err }
      throw err
    }
    const latest = candidate.manifest
    const own = options.own === 'always' || (options.own === 'if-listed' && latest.nodes.some(n => n.peerId === this.components.selfPeerId))
    const held = this.held.get(latest.id)
    if (held === undefined) return await this.hold(candidate, own)
    if (own && !held.own) {
      held.own = true
      await this.persist(latest.id, held)
      this.reindex()
    }
    const heldVersion = held.verified.manifest.version
    if (latest.version === heldVersion && candidate.chain.at(-1)?.payload === held.verified.chain.at(-1)?.payload) {
      return { status: 'unchanged', id: latest.id, version: heldVersion }
    }
    // older than held, whatever it passes through: nothing to replace
    if (latest.version <= heldVersion) return { status: 'stale', error: new StaleManifestError({ id: latest.id, heldVersion, version: latest.version }) }
    let next: VerifiedChain
    try {
      next = acceptChain(held.verified, chain)
    } catch (err) {
      if (err instanceof StaleManifestError) return { status: 'stale', error: err }
      if (err instanceof InvalidManifestError) return { status: 'forked', error: err }
      throw err
    }
    await this.replace(latest.id, held, next)
    return { status: 'accepted', id: latest.id, version: next.manifest.version }
  }

  private async hold (verified: VerifiedChain, own: boolean): Promise<OfferOutcome> {
    const { manifest } = verified
    const trusted = this.components.trustedRootKeys()
    if (!own && !verified.rootKeys.some(key => trusted.has(key))) return { status: 'unrequested', id: manifest.id, version: manifest.version }
    if (this.held.size >= this.maxCommunities) {
      throw new InvalidRequestError(`this node holds ${this.maxCommunities} communities already; remove community trust entries first`)
    }
    const since = this.now()
    const held: Held = { verified, revokedSince: new Map(manifest.revoked.map(r => [r.peerId, since])), own }
    await this.persist(manifest.id, held)
    this.held.set(manifest.id, held)
    this.reindex()
    this.emit({ id: manifest.id, version: manifest.version, added: manifest.nodes.map(n => n.peerId), removed: [], revoked: manifest.revoked.map(r => r.peerId) })
    return { status: 'accepted', id: manifest.id, version: manifest.version }
  }

  private async replace (id: string, held: Held, verified: VerifiedChain): Promise<void> {
    const before = new Set(held.verified.manifest.nodes.map(n => n.peerId))
    const after = new Set(verified.manifest.nodes.map(n => n.peerId))
    const revoked = verified.manifest.revoked.map(r => r.peerId).filter(peerId => !held.revokedSince.has(peerId))
    const since = this.now()
    const next: Held = { verified, revokedSince: new Map(held.revokedSince), own: held.own }
    for (const peerId of revoked) next.revokedSince.set(peerId, since)
    await this.persist(id, next)
    this.held.set(id, next)
    this.reindex()
    this.emit({
      id,
      version: verified.manifest.version,
      added: [...after].filter(p => !before.has(p)),
      removed: [...before].filter(p => !after.has(p)),
      revoked
    })
  }

  /** Forget communities no trust entry names any more (this node's own stays). */
  async prune (): Promise<string[]> {
    const trusted = this.components.trustedRootKeys()
    const dropped: string[] = []
    for (const [id, held] of this.held) {
      if (held.own || held.verified.rootKeys.some(key => trusted.has(key))) continue
      await this.components.section.del(id)
      this.held.delete(id)
      dropped.push(id)
    }
    if (dropped.length > 0) this.reindex()
    return dropped
  }

  private async persist (id: string, held: Held): Promise<void> {
    await this.components.section.put(id, { chain: held.verified.chain, revokedSince: Object.fromEntries(held.revokedSince), own: held.own })
  }

  private now (): string {
    return (this.components.now?.() ?? new Date()).toISOString()
  }

  private reindex (): void {
    const byPeer = new Map<string, string[]>()
    const add = (peerId: string, id: string): void => {
      const ids = byPeer.get(peerId) ?? []
      if (!ids.includes(id)) ids.push(id)
      byPeer.set(peerId, ids)
    }
    // own community first: communityOf answers it before any trusted one
    const ordered = [...this.held].sort(([, a], [, b]) => Number(b.own) - Number(a.own))
    for (const [id, held] of ordered) {
      for (const node of held.verified.manifest.nodes) add(node.peerId, id)
      for (const peerId of held.revokedSince.keys()) add(peerId, id)
    }
    this.byPeer = byPeer
  }

  private emit (change: CommunityChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change)
      } catch (err) {
        this.components.log?.error({ err }, 'community change listener failed')
      }
    }
  }

  // ---- CommunityDirectoryReader ----

  communityOf (peerId: string): CommunityMembership | undefined {
    return this.membershipsOf(peerId)[0]
  }

  membershipsOf (peerId: string): CommunityMembership[] {
    const ids = this.byPeer.get(peerId)
    if (ids === undefined) return []
    const out: CommunityMembership[] = []
    for (const id of ids) {
      const held = this.held.get(id)
      if (held !== undefined) out.push(membershipIn(id, held, peerId))
    }
    return out
  }

  nodesOf (communityId: string): CommunityNodeView[] {
    return this.held.get(communityId)?.verified.manifest.nodes.map(nodeView) ?? []
  }

  onChange (listener: (change: CommunityChange) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  // ---- for the API, gossip and the exchange ----

  list (): CommunityView[] {
    return [...this.held].map(([id, held]) => viewOf(id, held))
  }

  /** This node's own community's chain, when config `community.manifest` gave one. */
  ownChain (): SignedManifest[] | undefined {
    for (const held of this.held.values()) if (held.own) return [...held.verified.chain]
    return undefined
  }

  /** The chains of the held communities having any of these root keys (a peer asking for what it trusts). */
  chainsFor (rootKeys: readonly string[]): SignedManifest[][] {
    const wanted = new Set(rootKeys)
    return [...this.held.values()].filter(held => held.verified.rootKeys.some(key => wanted.has(key))).map(held => [...held.verified.chain])
  }

  /** peer ID → when this node learned of its revocation, across held communities (the marks on stored records). */
  revokedSince (peerId: string): string | undefined {
    for (const id of this.byPeer.get(peerId) ?? []) {
      const since = this.held.get(id)?.revokedSince.get(peerId)
      if (since !== undefined) return since
    }
    return undefined
  }
}

function nodeView (node: CommunityManifest['nodes'][number]): CommunityNodeView {
  return {
    peerId: node.peerId,
    ...(node.sources === undefined ? {} : { sources: [...node.sources] }),
    ...(node.classes === undefined ? {} : { classes: [...node.classes] })
  }
}

function membershipIn (id: string, held: Held, peerId: string): CommunityMembership {
  const { manifest } = held.verified
  const node = manifest.nodes.find(n => n.peerId === peerId)
  const revocation = manifest.revoked.find(r => r.peerId === peerId)
  const since = held.revokedSince.get(peerId)
  const { peerId: _, ...scopes } = node === undefined ? { peerId } : nodeView(node)
  return {
    id,
    name: manifest.community,
    rootKeys: held.verified.rootKeys,
    ...(node === undefined || revocation !== undefined ? {} : { node: scopes }),
    ...(revocation === undefined || since === undefined ? {} : { revoked: { version: revocation.version, since } })
  }
}

function viewOf (id: string, held: Held): CommunityView {
  const { manifest } = held.verified
  return {
    id,
    name: manifest.community,
    version: manifest.version,
    issuedAt: manifest.issuedAt,
    rootKey: manifest.rootKey,
    rootKeys: [...held.verified.rootKeys],
    nodes: manifest.nodes.map(nodeView),
    revoked: manifest.revoked.map(r => ({
      peerId: r.peerId,
      version: r.version,
      ...(r.reason === undefined ? {} : { reason: r.reason }),
      since: held.revokedSince.get(r.peerId) ?? manifest.issuedAt
    })),
    own: held.own
  }
}
