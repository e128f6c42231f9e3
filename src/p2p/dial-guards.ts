import type { ConnectionVia } from './types.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

// Dials: how each came about, why the last one to a peer failed, when a failed peer is dialled
// again, and the check that the node answering is the one the address names.

/** Each dial the service starts itself (watchdog redial, mDNS, dial()) gives up after this. */
export const DIAL_TIMEOUT_MS = 10_000
/**
 * A peer whose discovery dial failed is dialled again after one watchdog interval, then twice as
 * long after each further failure, up to this: a transient failure (a loaded peer) heals at the
 * next sweep, and a peer that is gone for good costs one dial every 5 minutes. Bootstrap peers
 * are redialled every sweep regardless.
 * @default 300_000
 */
export const MAX_DISCOVERY_DIAL_BACKOFF_MS = 5 * 60_000
/** Last dial errors kept for GET /v1/peers; the oldest is forgotten beyond this. */
export const MAX_DIAL_ERRORS = 256
/** A dial error longer than this is cut: it goes to logs and the API, not a debugger. */
const MAX_ERROR_TEXT = 300

/** What the service knows about its dials, kept across restarts like the rest of its peer knowledge. */
export class DialGuards {
  /** how the dial in flight to a peer came about, for the connection it makes */
  readonly via = new Map<string, ConnectionVia>()
  private readonly errors = new Map<string, string>()
  private readonly backoff = new Map<string, { until: number, failures: number }>()
  /** by the peer ID a dial expected: who answered instead (see pinPeerIds) */
  private readonly wrongPeers = new Map<string, string>()

  constructor (private readonly watchdogIntervalMs: number) {}

  /** the last dial error to this peer, for GET /v1/peers */
  lastError (id: string): string | undefined {
    return this.errors.get(id)
  }

  /** a discovery dial to this peer failed lately and waits for its backoff */
  backedOff (id: string, now: number): boolean {
    return (this.backoff.get(id)?.until ?? 0) > now
  }

  succeeded (id: string): void {
    this.backoff.delete(id)
  }

  /** A discovery dial failed: the next one waits one watchdog interval, doubling per failure. */
  discoveryFailed (id: string, err: unknown): void {
    this.via.delete(id)
    this.noteError(id, err)
    this.wrongPeers.delete(id)
    const failures = (this.backoff.get(id)?.failures ?? 0) + 1
    const delay = Math.min(MAX_DISCOVERY_DIAL_BACKOFF_MS, this.watchdogIntervalMs * 2 ** Math.min(failures - 1, 16))
    this.backoff.delete(id)
    this.backoff.set(id, { until: Date.now() + delay, failures })
    if (this.backoff.size > MAX_DIAL_ERRORS) this.backoff.delete(this.backoff.keys().next().value as string)
  }

  /**
   * A bootstrap dial failed: its error text, and who answered instead when another node did
   * ('' when unnamed; undefined for any other failure).
   */
  bootstrapFailed (id: string, err: unknown): { text: string, answeredAs: string | undefined } {
    this.via.delete(id)
    const text = this.noteError(id, err)
    const answeredAs = this.wrongPeers.get(id) ?? unexpectedPeer(err)
    this.wrongPeers.delete(id)
    return { text, answeredAs }
  }

  private noteError (id: string, err: unknown): string {
    const wrong = this.wrongPeers.get(id)
    const text = wrong === undefined ? errorText(err) : `the node at this address is ${wrong}`
    this.errors.delete(id)
    this.errors.set(id, text)
    if (this.errors.size > MAX_DIAL_ERRORS) this.errors.delete(this.errors.keys().next().value as string)
    return text
  }

  /**
   * libp2p 2.10 does not hand the dialled `/p2p/<id>` to the Noise handshake: a dial reaches
   * whichever node listens at the address, whatever its ID (measured). Checked here, once the
   * remote's ID is known and before the connection is used: an address that names another peer
   * than the one answering is refused, and who answered is kept for the warning.
   */
  pinPeerIds (peer: PeerId, remoteAddr: Multiaddr): boolean {
    const expected = remoteAddr.getPeerId()
    const actual = peer.toString()
    if (expected === null || expected === actual) return false
    this.wrongPeers.delete(expected)
    this.wrongPeers.set(expected, actual)
    if (this.wrongPeers.size > MAX_DIAL_ERRORS) this.wrongPeers.delete(this.wrongPeers.keys().next().value as string)
    return true
  }
}

/** Errors a dial may wrap: AggregateError (one per address), `cause`. */
function innerErrors (err: unknown, depth = 0): Error[] {
  if (!(err instanceof Error) || depth > 3) return []
  const inner: unknown[] = [...(err instanceof AggregateError ? err.errors : []), ...(err.cause === undefined ? [] : [err.cause])]
  return [err, ...inner.flatMap((e) => innerErrors(e, depth + 1))]
}

/**
 * When a dial failed because another peer answered (Noise's UnexpectedPeerError), that peer's ID
 * ('' when the message does not say); undefined for any other failure. Noise names the key it got
 * as text, which for Ed25519 keys is the peer ID.
 */
export function unexpectedPeer (err: unknown): string | undefined {
  const found = innerErrors(err).find((e) => e.name === 'UnexpectedPeerError')
  if (found === undefined) return undefined
  const match = /identity key (\S+) does not match/.exec(found.message)
  return match?.[1] ?? ''
}

/** One line for logs and the API: the messages of a dial error and what it wraps. */
export function errorText (err: unknown): string {
  const messages = [...new Set(innerErrors(err).map((e) => e.message).filter((m) => m.length > 0))]
  const text = messages.length > 0 ? messages.join('; ') : String(err)
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text
}

export function dialSignal (...signals: Array<AbortSignal | undefined>): AbortSignal {
  return AbortSignal.any([...signals.filter((s): s is AbortSignal => s !== undefined), AbortSignal.timeout(DIAL_TIMEOUT_MS)])
}
