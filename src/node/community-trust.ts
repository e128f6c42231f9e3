import { resolve } from 'node:path'
import type { Logger } from 'pino'
import { readChainFile } from '../community/index.js'
import type { NodeConfig } from '../config.js'
import { CdgossipError } from '../errors.js'
import type { StateSection } from '../contracts/state-section.js'
import type { CommunityChange } from '../contracts/community.js'
import { CommunityChannel, type ControlVerdict, type P2PService } from '../p2p/index.js'
import { CommunityDirectory, type OfferOutcome, type PersistedCommunity } from './community-directory.js'

/** Where a chain came from, for the counters. */
export type ChainVia = 'gossip' | 'exchange' | 'api' | 'config'

/**
 * The gossip verdict of each outcome. Reject only what is invalid for every node (forged or
 * malformed chains): forwarding it cost the forwarder score. A chain forked off a retired root
 * verifies for a node that knows only that root, and staleness depends on what a node holds:
 * Ignore. A valid chain of a community this node does not trust is forwarded (Accept): others may.
 */
const VERDICTS: Readonly<Record<OfferOutcome['status'], ControlVerdict>> = Object.freeze({
  accepted: 'accept',
  unrequested: 'accept',
  unchanged: 'ignore',
  stale: 'ignore',
  forked: 'ignore',
  invalid: 'reject'
})

export interface CommunityTrustParts {
  log: Logger
  section: StateSection<PersistedCommunity>
  /** root keys the trust entries name (TrustPolicy.communityKeys): the communities held and asked for */
  trustedRootKeys(): ReadonlySet<string>
  selfPeerId: string
  /** a manifest change (nodes added, revoked, rotated): the refusals it may undo are judged again */
  policyChanged(origins: string[]): void
}

/**
 * The node's side of community trust: the directory of verified manifest chains the trust policy
 * reads, the counters of what was offered, and (once p2p runs) the control-topic channel.
 */
export class CommunityTrust {
  readonly directory: CommunityDirectory
  private readonly parts: CommunityTrustParts
  private readonly counts = new Map<string, number>()
  private channel: CommunityChannel | undefined

  constructor (parts: CommunityTrustParts) {
    this.parts = parts
    this.directory = new CommunityDirectory({
      section: parts.section,
      trustedRootKeys: () => parts.trustedRootKeys(),
      selfPeerId: parts.selfPeerId,
      log: parts.log
    })
    this.directory.onChange(change => { this.changed(change) })
  }

  /** The persisted chains, then this node's own chain from config `community.manifest`. */
  async load (config: Readonly<NodeConfig>): Promise<void> {
    await this.directory.load()
    const configured = config.community.manifest
    if (configured === undefined) return
    const file = resolve(config.dataDir, configured)
    const problem = (message: string, cause: unknown): CdgossipError => new CdgossipError('CDG_CONFIG', `community.manifest ${file}: ${message}`, { cause })
    let chain: unknown
    try {
      chain = (await readChainFile(file)).chain
    } catch (err) {
      // a chain that does not verify says why; a file system error, which file and how to make one
      if (err instanceof CdgossipError) throw problem(err.message, err)
      throw problem(`cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); write it with \`cdgossip community export --out <file>\``, err)
    }
    const outcome = await this.offer(chain, 'config')
    // an older file than what the node learned since is fine (the newer one stays); a forged one
    // or a fork of the held chain is not
    if (outcome.status === 'forked' || outcome.status === 'invalid') throw problem(outcome.error.message, outcome.error)
  }

  /**
   * Offer a chain from anywhere; counted by via and outcome. The config file's chain is this
   * node's own community; one the operator publishes over the API is too when it lists this node.
   */
  async offer (chain: unknown, via: ChainVia): Promise<OfferOutcome> {
    const own = via === 'config' ? 'always' : via === 'api' ? 'if-listed' : 'never'
    const outcome = await this.directory.offer(chain, { own })
    const key = `community.manifests.${outcome.status}.${via}`
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
    if ('error' in outcome) this.parts.log.debug({ via, status: outcome.status, err: outcome.error }, 'community manifest chain refused')
    return outcome
  }

  /** GET /v1/node counters: `community.manifests.<outcome>.<via>` */
  counters (): Record<string, number> {
    return Object.fromEntries(this.counts)
  }

  /** Join the control topic and the exchange on a running P2PService. */
  async startChannel (p2p: P2PService, network: string): Promise<CommunityChannel> {
    const channel = new CommunityChannel({
      p2p,
      receiveChain: async (chain, { via }) => VERDICTS[(await this.offer(chain, via)).status],
      chainsFor: rootKeys => this.directory.chainsFor(rootKeys),
      wantedRootKeys: () => [...this.parts.trustedRootKeys()],
      ownChain: () => this.directory.ownChain(),
      log: this.parts.log
    }, { network })
    await channel.start()
    this.channel = channel
    return channel
  }

  async stopChannel (): Promise<void> {
    await this.channel?.stop()
    this.channel = undefined
  }

  /** A community trust entry was added: ask connected peers for its chain now. */
  trustAdded (): void {
    this.channel?.askConnected()
  }

  /** A community trust entry was removed: forget the communities no entry names. */
  async trustRemoved (): Promise<void> {
    await this.directory.prune()
  }

  private changed (change: CommunityChange): void {
    // nodes added or revoked judge differently now; the refusal ledger forgets what the new
    // fingerprints no longer stand behind, and sync fetches it again
    this.parts.policyChanged([...change.added, ...change.revoked])
    if (this.directory.list().some(c => c.own && c.id === change.id)) void this.channel?.publishOwn()
  }
}
