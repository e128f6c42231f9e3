import { compileClassPatterns } from './class-pattern.js'
import { InvalidTrustEntryError, UntrustedSignerError } from './errors.js'
import { SELF_NAME, describeValue, validateTrustEntry } from './trust-entry.js'
import type { ClassMatcher } from './class-pattern.js'
import type { UntrustedSignerDetails } from './errors.js'
import type { TrustEntryInput } from './trust-entry.js'
import type { TrustCheck, TrustEntry, TrustMode, TrustVerdict } from './types.js'

/** @default 'allowlist': a fresh node accepts nobody until told to */
export const DEFAULT_TRUST_MODE: TrustMode = 'allowlist'

/**
 * The list lives in memory and every check is one Map lookup; this bound keeps an API client
 * (token holder, but still outside input) from growing it without end.
 * @default 10000
 */
export const DEFAULT_MAX_TRUST_ENTRIES = 10_000

const TRUST_MODES: readonly TrustMode[] = ['allowlist', 'open']

/**
 * Characters after which a source continues in a new segment. A prefix only covers a source
 * when the match ends on such a boundary, so `https://ci.example.org` does not cover
 * `https://ci.example.org.attacker.net` nor `/ci/onap` cover `/ci/onapx`.
 */
const SEGMENT_BOUNDARIES = new Set(['/', ':', '?', '#'])

export interface TrustPolicyComponents {
  /** this node's peer ID: its own events are always trusted */
  selfPeerId: string
  /**
   * the other nodes of this node's community (its manifest lists them): trusted like this node
   * itself, and named `self` too, since they sign for the same community
   */
  isSibling?: (peerId: string) => boolean
}

export interface TrustPolicyInit {
  /** @default DEFAULT_TRUST_MODE */
  mode?: TrustMode
  /** @default [] */
  entries?: TrustEntryInput[]
  /** @default DEFAULT_MAX_TRUST_ENTRIES */
  maxEntries?: number
}

/** Whether `prefix` covers `source`: `*`, equal, or a prefix ending on a segment boundary. */
export function sourceHasPrefix (source: string, prefix: string): boolean {
  if (prefix === '*') return true
  if (!source.startsWith(prefix)) return false
  if (source.length === prefix.length) return true
  return SEGMENT_BOUNDARIES.has(prefix.charAt(prefix.length - 1)) || SEGMENT_BOUNDARIES.has(source.charAt(prefix.length))
}

interface CompiledEntry {
  readonly entry: Readonly<TrustEntry>
  readonly anySource: boolean
  readonly allowsClass: ClassMatcher
}

function compile (entry: TrustEntry): CompiledEntry {
  const frozen = Object.freeze({
    ...entry,
    sources: Object.freeze([...entry.sources]) as string[],
    classes: Object.freeze([...entry.classes]) as string[]
  })
  return { entry: frozen, anySource: entry.sources.includes('*'), allowsClass: compileClassPatterns(entry.classes) }
}

function copyOf (entry: Readonly<TrustEntry>): TrustEntry {
  return { peerId: entry.peerId, name: entry.name, sources: [...entry.sources], classes: [...entry.classes] }
}

function validateMode (mode: unknown): TrustMode {
  if (!TRUST_MODES.includes(mode as TrustMode)) {
    throw new InvalidTrustEntryError('mode', `mode must be one of ${TRUST_MODES.join(', ')}, got ${describeValue(mode)}`)
  }
  return mode as TrustMode
}

/**
 * Which communities (peer IDs) this node accepts events from, and for which CloudEvent sources and
 * event classes. Pure and synchronous: persistence is the node's job. Changes apply to the next
 * check, with no restart.
 */
export class TrustPolicy {
  private readonly selfPeerId: string
  private readonly isSibling: (peerId: string) => boolean
  private currentMode: TrustMode
  private readonly maxEntries: number
  /** by peer ID: the receive hot path */
  private readonly byPeerId = new Map<string, CompiledEntry>()
  /** name → peer ID */
  private readonly byName = new Map<string, string>()

  constructor (components: TrustPolicyComponents, init: TrustPolicyInit = {}) {
    this.selfPeerId = components.selfPeerId
    this.isSibling = components.isSibling ?? (() => false)
    this.currentMode = validateMode(init.mode ?? DEFAULT_TRUST_MODE)
    this.maxEntries = init.maxEntries ?? DEFAULT_MAX_TRUST_ENTRIES
    const entries = init.entries ?? []
    if (entries.length > this.maxEntries) {
      throw new InvalidTrustEntryError('entries', `at most ${this.maxEntries} trust entries, got ${entries.length}`)
    }
    for (const [i, input] of entries.entries()) {
      try {
        const entry = validateTrustEntry(input)
        // a config file naming one community twice is a mistake, not an update
        if (this.byPeerId.has(entry.peerId)) throw new InvalidTrustEntryError('peerId', `peer ID ${entry.peerId} is listed twice`)
        this.put(entry)
      } catch (err) {
        // say which entry of the file is wrong
        if (err instanceof InvalidTrustEntryError) throw new InvalidTrustEntryError(`entries[${i}].${err.details.field}`, `entries[${i}]: ${err.message}`)
        throw err
      }
    }
  }

  get mode (): TrustMode {
    return this.currentMode
  }

  setMode (mode: TrustMode): void {
    this.currentMode = validateMode(mode)
  }

  /**
   * The verdict for one event. In `allowlist` mode anything outside the list throws
   * UntrustedSignerError saying why; in `open` mode it comes back `{ trusted: false }`.
   */
  check ({ origin, source, eventClass }: TrustCheck): TrustVerdict {
    if (this.isOwnCommunity(origin)) return { trusted: true, name: SELF_NAME }

    const compiled = this.byPeerId.get(origin)
    if (compiled === undefined) {
      return this.refuse({ reason: 'unknown-signer', origin, source, eventClass }, () => `unknown signer ${describeValue(origin)}: not in the trust list`)
    }

    const { entry } = compiled
    if (!compiled.anySource && !entry.sources.some(prefix => sourceHasPrefix(source, prefix))) {
      return this.refuse(
        { reason: 'source-not-allowed', origin, source, eventClass, name: entry.name },
        () => `source ${describeValue(source)} is outside the sources of ${entry.name} (${origin}): ${entry.sources.join(', ')}`
      )
    }
    if (!compiled.allowsClass(eventClass)) {
      return this.refuse(
        { reason: 'class-not-allowed', origin, source, eventClass, name: entry.name },
        () => `class ${describeValue(eventClass)} is not allowed for ${entry.name} (${origin}): allowed ${entry.classes.join(', ')}`
      )
    }
    return { trusted: true, name: entry.name }
  }

  /** The message is built only when thrown: open mode sees every outsider's event on the hot path. */
  private refuse (details: UntrustedSignerDetails, message: () => string): TrustVerdict {
    if (this.currentMode === 'allowlist') throw new UntrustedSignerError(message(), details)
    return details.name === undefined ? { trusted: false } : { trusted: false, name: details.name }
  }

  /**
   * Add a community, or replace the entry of a peer ID already listed. Returns the normalised
   * entry (canonical peer ID, default classes).
   */
  add (input: TrustEntryInput): TrustEntry {
    const entry = validateTrustEntry(input)
    if (!this.byPeerId.has(entry.peerId) && this.byPeerId.size >= this.maxEntries) {
      throw new InvalidTrustEntryError('peerId', `the trust list is full (${this.maxEntries} entries)`)
    }
    return copyOf(this.put(entry).entry)
  }

  private put (entry: TrustEntry): CompiledEntry {
    if (entry.peerId === this.selfPeerId) {
      throw new InvalidTrustEntryError('peerId', "peerId is this node's own; its events are always trusted")
    }
    const holder = this.byName.get(entry.name)
    if (holder !== undefined && holder !== entry.peerId) {
      throw new InvalidTrustEntryError('name', `name ${entry.name} is already used by ${holder}`)
    }
    const previous = this.byPeerId.get(entry.peerId)
    if (previous !== undefined) this.byName.delete(previous.entry.name)
    const compiled = compile(entry)
    this.byPeerId.set(entry.peerId, compiled)
    this.byName.set(entry.name, entry.peerId)
    return compiled
  }

  /** Remove by peer ID or name; false when neither is listed. */
  remove (peerIdOrName: string): boolean {
    const compiled = this.lookup(peerIdOrName)
    if (compiled === undefined) return false
    this.byPeerId.delete(compiled.entry.peerId)
    this.byName.delete(compiled.entry.name)
    return true
  }

  /** Every entry, in the order added (a replaced entry keeps its place). */
  list (): TrustEntry[] {
    return [...this.byPeerId.values()].map(compiled => copyOf(compiled.entry))
  }

  get (peerIdOrName: string): TrustEntry | undefined {
    const compiled = this.lookup(peerIdOrName)
    return compiled === undefined ? undefined : copyOf(compiled.entry)
  }

  /** Trust name of a peer ID (`self` for this node), for display and subscription filters. */
  /**
   * What a decision about `origin` is made under: the mode and the origin's entry. A refusal whose
   * fingerprint differs from today's may be acceptable now.
   */
  fingerprint (origin: string): string {
    return `${this.mode} ${JSON.stringify(this.get(origin) ?? null)}`
  }

  nameOf (peerId: string): string | undefined {
    if (this.isOwnCommunity(peerId)) return SELF_NAME
    return this.byPeerId.get(peerId)?.entry.name
  }

  private isOwnCommunity (peerId: string): boolean {
    return peerId === this.selfPeerId || this.isSibling(peerId)
  }

  private lookup (peerIdOrName: string): CompiledEntry | undefined {
    const byPeerId = this.byPeerId.get(peerIdOrName)
    if (byPeerId !== undefined) return byPeerId
    const peerId = this.byName.get(peerIdOrName)
    return peerId === undefined ? undefined : this.byPeerId.get(peerId)
  }
}
