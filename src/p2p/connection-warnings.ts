import { MAX_DIAL_ERRORS } from './dial-guards.js'
import { MAX_INBOUND_DATA_LENGTH } from './gossip-options.js'
import { PROTOCOL_P2P } from './libp2p-node.js'
import { WarnLimiter } from './warn-limiter.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'

/**
 * The connection-level problems an operator must fix on some machine (a wrong bootstrap entry, a
 * copied identity key, a peer sending oversize frames), each as a rate-limited warn line that
 * says what to do.
 */
export class ConnectionWarnings {
  private readonly limiter: WarnLimiter
  /** neighbours whose last exchange answer listed our peer ID at addresses not ours */
  private readonly ownIdSightings = new Set<string>()

  constructor (private readonly peerId: string, log: Logger | undefined) {
    this.limiter = new WarnLimiter(log)
  }

  /**
   * A bootstrap entry with our own peer ID is either this node's own address (a config shared by
   * every node) or another machine running with a copy of our identity key; libp2p refuses to dial
   * either. Only the second is worth a warning.
   */
  selfBootstrapEntries (entries: Multiaddr[], ours: Set<string>): void {
    for (const ma of entries) {
      const address = ma.decapsulateCode(PROTOCOL_P2P).toString()
      if (ours.has(address)) continue
      this.limiter.warn(`bootstrap-self:${ma.toString()}`, { address: ma.toString(), peerId: this.peerId },
        'bootstrap entry carries this node\'s own peer ID at an address it does not listen on: if a node runs there, it runs with a copy of this node\'s identity key (give each node its own data dir); otherwise correct the entry')
    }
  }

  /**
   * A neighbour lists our peer ID with addresses none of which are ours: its identify exchange was
   * with another node holding our identity key (a copied data dir or identity.key).
   */
  ownIdSighting (reportedBy: string, addrs: string[], ours: Set<string>): void {
    if (addrs.length === 0 || addrs.some((a) => ours.has(a))) {
      this.ownIdSightings.delete(reportedBy)
      return
    }
    // right after this node restarts on new ports, a neighbour may still list its old addresses
    // until identify has run: only a second answer in a row that says so counts
    if (!this.ownIdSightings.has(reportedBy)) {
      this.ownIdSightings.add(reportedBy)
      if (this.ownIdSightings.size > MAX_DIAL_ERRORS) this.ownIdSightings.delete(this.ownIdSightings.values().next().value as string)
      return
    }
    this.limiter.warn(`copied-identity:${reportedBy}`, { peerId: this.peerId, reportedBy, addresses: addrs },
      'another node runs with this node\'s identity key: a peer knows our peer ID at addresses that are not ours; each node needs its own identity.key (its own data dir), or the two will take each other\'s connections and gossip')
  }

  /** `answeredAs`: who answered instead ('' when unnamed), undefined when the dial failed otherwise */
  bootstrapFailed (id: string, address: string, text: string, answeredAs: string | undefined): void {
    if (answeredAs !== undefined) {
      this.limiter.warn(`bootstrap-wrong-peer:${id}`, { address, expected: id, ...(answeredAs === '' ? {} : { answeredAs }) },
        'bootstrap address reached a different node: the /p2p/<peerId> in the entry is not the peer ID of the node listening there; correct the entry (cdgossip status on that node shows its peer ID)')
      return
    }
    this.limiter.warn(`bootstrap-failed:${id}`, { address, err: text }, 'bootstrap dial failed; retrying every watchdog sweep')
  }

  oversizeFrame (id: string): void {
    this.limiter.warn(`frame-too-large:${id}`, { peer: id, limit: MAX_INBOUND_DATA_LENGTH },
      'peer sent a gossip frame over the inbound limit; gossipsub dropped its stream, and the watchdog hangs up so it can reconnect')
  }
}
