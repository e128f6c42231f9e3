import { LogLimiter } from './log-limiter.js'
import type { PipelineObservation } from './observation.js'
import type { EventClass, SignedEvent } from '../events/types.js'
import type { TrustEntry } from '../trust/types.js'
import type { Logger } from 'pino'

/**
 * Peers with figures of their own. Peers are outside input (any key can connect), so the map is
 * bounded; beyond it the least recently heard peer is forgotten.
 * @default 256
 */
export const MAX_TRACKED_PEER_FIGURES = 256
/** Peers listed in GET /v1/node, the most recently heard first. */
export const MAX_SHOWN_PEER_FIGURES = 50

/** Failures on this node's side, or no failure at all: not a peer's record being rejected. */
const NOT_REJECTIONS = new Set(['CDG_STORE', 'CDG_NOT_STARTED', 'CDG_ABORTED', 'CDG_DUPLICATE_EVENT', 'unexpected'])

/** What one peer handed this node (gossip and sync), since the node started. */
export interface PeerFigures {
  peerId: string
  /** records received from it, whatever became of them */
  received: number
  stored: number
  duplicates: number
  /** verified and forwarded or passed on, not stored */
  relayed: number
  /** invalid for every node (bad signature, schema, consistency…) */
  rejected: number
  /** genuine, refused by this node's trust policy */
  refused: number
  lastReject?: { code: string, at: string, origin?: string, eventClass?: string }
  lastAt: string
}

export interface ReceiveMonitorComponents {
  log: Logger
  /** the trust entry of an origin, for the hint in a refusal's log line */
  trustEntry(origin: string): TrustEntry | undefined
}

export interface ReceiveMonitorInit {
  /** @default a LogLimiter with its defaults */
  limiter?: LogLimiter
  /** @default MAX_TRACKED_PEER_FIGURES */
  maxPeers?: number
}

interface Figures extends Omit<PeerFigures, 'lastAt' | 'lastReject'> {
  lastAt: number
  lastReject?: { code: string, at: number, origin?: string, eventClass?: string }
}

/**
 * Makes the receive path's outcomes visible: counts per path (gossip, sync, import) and outcome,
 * figures per sending peer, and warn lines — rate-limited per key — for records rejected, records
 * refused by policy (with the trust change that would accept them), relay budgets exhausted and
 * sync gaps that stay open.
 */
export class ReceiveMonitor {
  private readonly components: ReceiveMonitorComponents
  private readonly limiter: LogLimiter
  private readonly maxPeers: number
  private readonly paths = new Map<string, number>()
  /** least recently heard first */
  private readonly peers = new Map<string, Figures>()
  /** the last refused source per (origin, reason), for the hint; bounded like the peers */
  private readonly lastSources = new Map<string, string>()

  constructor (components: ReceiveMonitorComponents, init: ReceiveMonitorInit = {}) {
    this.components = components
    this.limiter = init.limiter ?? new LogLimiter()
    this.maxPeers = init.maxPeers ?? MAX_TRACKED_PEER_FIGURES
  }

  /** The receive pipeline's observe hook (publish observations are ignored here). */
  observe (o: PipelineObservation): void {
    if (o.via === 'publish') return
    const outcome = o.outcome === 'policy' ? 'refused' : o.outcome === 'refused' ? rejectedOrLocal(o.reason) : o.outcome
    this.count(`received.${o.via}.${outcome}`)
    const peer = o.from === undefined ? undefined : this.figures(o.from)
    if (peer !== undefined) peer.received++
    switch (o.outcome) {
      case 'stored': if (peer !== undefined) peer.stored++; break
      case 'duplicate': if (peer !== undefined) peer.duplicates++; break
      case 'relayed': if (peer !== undefined) peer.relayed++; break
      case 'policy':
        if (peer !== undefined) peer.refused++
        if (o.origin !== undefined) this.logRefusal(o.origin, o.eventClass, o.policy, o.from)
        break
      case 'refused': {
        if (outcome !== 'rejected') break
        if (peer !== undefined) {
          peer.rejected++
          peer.lastReject = { code: o.reason, at: Date.now(), ...(o.origin === undefined ? {} : { origin: o.origin }), ...(o.eventClass === undefined ? {} : { eventClass: o.eventClass }) }
        }
        if (o.from === undefined) break
        const allowed = this.limiter.take(`reject ${o.from} ${o.reason}`)
        if (!allowed.log) break
        this.components.log.warn({
          code: o.reason, peer: o.from, via: o.via, suppressed: allowed.suppressed,
          ...(o.origin === undefined ? {} : { origin: o.origin }),
          ...(o.eventClass === undefined ? {} : { eventClass: o.eventClass })
        }, `record rejected (${o.reason}): invalid for every node${o.via === 'gossip' ? '; the peer that sent it loses gossip score' : '; the peer that served it is backed off'}`)
        break
      }
    }
  }

  /** The pipeline's refused hook: the source of a refusal, for the hint of its log line. */
  refusedSource (origin: string, reason: string, source: string): void {
    this.lastSources.set(`${origin} ${reason}`, source)
    if (this.lastSources.size > this.maxPeers) {
      const oldest = this.lastSources.keys().next().value
      if (oldest !== undefined) this.lastSources.delete(oldest)
    }
  }

  /** A relay dropped (did not forward) a record of an untrusted origin over its budget. */
  relayLimited (event: SignedEvent): void {
    this.count('relay.untrusted.limited')
    const allowed = this.limiter.take(`relay ${event.origin}`)
    if (!allowed.log) return
    this.components.log.warn({ origin: event.origin, eventClass: event.eventClass, suppressed: allowed.suppressed },
      'relay budget of an untrusted origin exhausted: its records are not forwarded for now (receivers can fetch them by sync)')
  }

  /** Sync's staleGap hook. */
  staleGap (origin: string, eventClass: EventClass, missing: number, rounds: number): void {
    const allowed = this.limiter.take(`gap ${origin} ${eventClass}`)
    if (!allowed.log) return
    const name = this.components.trustEntry(origin)?.name
    this.components.log.warn({ origin, ...(name === undefined ? {} : { name }), eventClass, missing, rounds, suppressed: allowed.suppressed },
      `sync gap open for ${rounds} rounds: ${missing} sequences of ${name ?? origin}'s ${eventClass} missing, and no connected peer supplied them`)
  }

  /** Counters by path and outcome (`received.gossip.stored`, `received.sync.refused`, …). */
  counters (): Record<string, number> {
    return Object.fromEntries(this.paths)
  }

  /** Figures of the most recently heard peers, at most `limit`. */
  peerFigures (limit = MAX_SHOWN_PEER_FIGURES): PeerFigures[] {
    return [...this.peers.values()].reverse().slice(0, limit).map(({ lastReject, lastAt, ...f }) => ({
      ...f,
      lastAt: new Date(lastAt).toISOString(),
      ...(lastReject === undefined ? {} : { lastReject: { ...lastReject, at: new Date(lastReject.at).toISOString() } })
    }))
  }

  private logRefusal (origin: string, eventClass: EventClass, reason: string, from: string | undefined): void {
    const allowed = this.limiter.take(`policy ${origin} ${reason}`)
    if (!allowed.log) return
    const entry = this.components.trustEntry(origin)
    const source = this.lastSources.get(`${origin} ${reason}`)
    const hint = trustHint(origin, entry, reason, source, eventClass)
    this.components.log.warn({
      origin, reason, eventClass, suppressed: allowed.suppressed,
      ...(entry === undefined ? {} : { name: entry.name }),
      ...(source === undefined ? {} : { source }),
      ...(from === undefined ? {} : { peer: from }),
      hint
    }, `record refused by this node's trust policy (${reason}); it is remembered, not a sync gap. To accept such records: ${hint}`)
  }

  private count (key: string): void {
    this.paths.set(key, (this.paths.get(key) ?? 0) + 1)
  }

  private figures (peerId: string): Figures {
    let f = this.peers.get(peerId)
    if (f === undefined) {
      if (this.peers.size >= this.maxPeers) {
        const oldest = this.peers.keys().next().value
        if (oldest !== undefined) this.peers.delete(oldest)
      }
      f = { peerId, received: 0, stored: 0, duplicates: 0, relayed: 0, rejected: 0, refused: 0, lastAt: 0 }
    } else {
      this.peers.delete(peerId)
    }
    this.peers.set(peerId, f)
    f.lastAt = Date.now()
    return f
  }
}

function rejectedOrLocal (reason: string): 'rejected' | 'failed' | 'duplicate' {
  if (reason === 'CDG_DUPLICATE_EVENT') return 'duplicate'
  return NOT_REJECTIONS.has(reason) ? 'failed' : 'rejected'
}

/** The CLI command that would accept records refused for `reason` (`trust add` replaces the entry). */
export function trustHint (origin: string, entry: TrustEntry | undefined, reason: string, source: string | undefined, eventClass: EventClass): string {
  const sourceArg = source ?? '<source prefix>'
  // the community's root key said so; no trust entry should undo it
  if (reason === 'revoked-signer') return `none: ${origin} is revoked by its community's manifest (cdgossip communities shows it)`
  if (entry === undefined || reason === 'unknown-signer') {
    return `add a trust entry: cdgossip trust add --peer-id ${origin} --name <name> --source ${quote(sourceArg)}`
  }
  const sources = reason === 'source-not-allowed' ? [...entry.sources, sourceArg] : entry.sources
  const classes = reason === 'class-not-allowed' ? [...entry.classes, eventClass] : entry.classes
  const what = reason === 'source-not-allowed' ? `add source ${sourceArg}` : `add class ${eventClass}`
  const classArgs = classes.length === 1 && classes[0] === '*' ? '' : classes.map(c => ` --class ${quote(c)}`).join('')
  return `${what} to trust entry ${entry.name}: cdgossip trust add --peer-id ${origin} --name ${entry.name}${sources.map(s => ` --source ${quote(s)}`).join('')}${classArgs}`
}

function quote (value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`
}
