import { classMatchesPattern } from '../events/index.js'
import { compileClassPatterns } from './class-pattern.js'
import { InvalidTrustEntryError, UntrustedSignerError } from './errors.js'
import { SELF_NAME, describeValue, trustKeyOf, validateTrustEntry } from './trust-entry.js'
import type { ClassMatcher } from './class-pattern.js'
import type { UntrustedSignerDetails } from './errors.js'
import type { TrustEntryInput } from './trust-entry.js'
import type { CommunityMembershipFacts, MembershipLookup, TrustCheck, TrustEntry, TrustMode, TrustVerdict } from './types.js'

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
  /**
   * what the held community manifests say of a signer; read on every check of a signer without
   * a peer-ID entry, so a manifest change applies to the next check @default none
   */
  memberships?: MembershipLookup
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
  const key = entry.peerId === undefined ? { community: trustKeyOf(entry) } : { peerId: entry.peerId }
  return { ...key, name: entry.name, sources: [...entry.sources], classes: [...entry.classes] }
}

/** A manifest's own narrowing of a node: absent scopes narrow nothing. */
function nodeAllows (node: NonNullable<CommunityMembershipFacts['node']>, { source, eventClass }: TrustCheck): 'source-not-allowed' | 'class-not-allowed' | undefined {
  if (node.sources !== undefined && !node.sources.some(prefix => sourceHasPrefix(source, prefix))) return 'source-not-allowed'
  if (node.classes !== undefined && !node.classes.some(pattern => classMatchesPattern(pattern, eventClass))) return 'class-not-allowed'
  return undefined
}

function validateMode (mode: unknown): TrustMode {
  if (!TRUST_MODES.includes(mode as TrustMode)) {
    throw new InvalidTrustEntryError('mode', `mode must be one of ${TRUST_MODES.join(', ')}, got ${describeValue(mode)}`)
  }
  return mode as TrustMode
}

/**
 * Which communities this node accepts events from, and for which CloudEvent sources and event
 * classes. A community is named by its node's peer ID, or by a root key of its manifest: then
 * every node the manifest lists is trusted within the entry's AND the manifest's scopes, and a
 * node it revoked is refused (`revoked-signer`). A peer-ID entry wins over any manifest. Pure and
 * synchronous (the manifests are read through `memberships`): persistence is the node's job.
 * Changes apply to the next check, with no restart.
 */
export class TrustPolicy {
  private readonly selfPeerId: string
  private readonly isSibling: (peerId: string) => boolean
  private currentMode: TrustMode
  private readonly maxEntries: number
  private readonly memberships: MembershipLookup
  /** by peer ID or community root key (trustKeyOf): the receive hot path */
  private readonly byKey = new Map<string, CompiledEntry>()
  /** name → key */
  private readonly byName = new Map<string, string>()

  constructor (components: TrustPolicyComponents, init: TrustPolicyInit = {}) {
    this.selfPeerId = components.selfPeerId
    this.isSibling = components.isSibling ?? (() => false)
    this.memberships = components.memberships ?? (() => [])
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
        if (this.byKey.has(trustKeyOf(entry))) throw new InvalidTrustEntryError(entry.peerId === undefined ? 'community' : 'peerId', `${trustKeyOf(entry)} is listed twice`)
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

    const compiled = this.peerEntry(origin)
    if (compiled === undefined) return this.checkCommunities({ origin, source, eventClass })

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

  /**
   * A signer without a peer-ID entry: trusted through the first held community a community entry
   * names that lists it and whose scopes (the entry's and the node's) cover the event.
   */
  private checkCommunities (check: TrustCheck): TrustVerdict {
    const { origin, source, eventClass } = check
    let scopeRefusal: { details: UntrustedSignerDetails, message: () => string } | undefined
    let revokedIn: { name: string, version: number, since: string } | undefined
    for (const membership of this.memberships(origin)) {
      const compiled = this.communityEntry(membership)
      if (compiled === undefined) continue
      const { entry } = compiled
      if (membership.node === undefined) {
        if (membership.revoked !== undefined) revokedIn ??= { name: entry.name, ...membership.revoked }
        continue
      }
      const entryReason = !compiled.anySource && !entry.sources.some(prefix => sourceHasPrefix(source, prefix))
        ? 'source-not-allowed'
        : compiled.allowsClass(eventClass) ? undefined : 'class-not-allowed'
      const reason = entryReason ?? nodeAllows(membership.node, check)
      if (reason === undefined) return { trusted: true, name: entry.name }
      scopeRefusal ??= {
        details: { reason, origin, source, eventClass, name: entry.name },
        message: () => reason === 'source-not-allowed'
          ? `source ${describeValue(source)} is outside what ${entry.name} (community ${trustKeyOf(entry)}) allows node ${origin}`
          : `class ${describeValue(eventClass)} is outside what ${entry.name} (community ${trustKeyOf(entry)}) allows node ${origin}`
      }
    }
    if (scopeRefusal !== undefined) return this.refuse(scopeRefusal.details, scopeRefusal.message)
    if (revokedIn !== undefined) {
      const { name, version, since } = revokedIn
      return this.refuse(
        { reason: 'revoked-signer', origin, source, eventClass, name },
        () => `signer ${origin} was revoked by ${name}'s manifest version ${version} (known here since ${since})`
      )
    }
    return this.refuse({ reason: 'unknown-signer', origin, source, eventClass }, () => `unknown signer ${describeValue(origin)}: not in the trust list`)
  }

  private peerEntry (peerId: string): CompiledEntry | undefined {
    const compiled = this.byKey.get(peerId)
    return compiled?.entry.peerId === undefined ? undefined : compiled
  }

  /** The community entry naming one of the community's root keys, if any. */
  private communityEntry (membership: CommunityMembershipFacts): CompiledEntry | undefined {
    for (const rootKey of membership.rootKeys) {
      const compiled = this.byKey.get(rootKey)
      if (compiled !== undefined && compiled.entry.community !== undefined) return compiled
    }
    return undefined
  }

  /** The message is built only when thrown: open mode sees every outsider's event on the hot path. */
  private refuse (details: UntrustedSignerDetails, message: () => string): TrustVerdict {
    if (this.currentMode === 'allowlist') throw new UntrustedSignerError(message(), details)
    return details.name === undefined ? { trusted: false } : { trusted: false, name: details.name }
  }

  /**
   * Add a community, or replace the entry of a peer ID (or community root key) already listed.
   * Returns the normalised entry (canonical key, default classes).
   */
  add (input: TrustEntryInput): TrustEntry {
    const entry = validateTrustEntry(input)
    if (!this.byKey.has(trustKeyOf(entry)) && this.byKey.size >= this.maxEntries) {
      throw new InvalidTrustEntryError(entry.peerId === undefined ? 'community' : 'peerId', `the trust list is full (${this.maxEntries} entries)`)
    }
    return copyOf(this.put(entry).entry)
  }

  private put (entry: TrustEntry): CompiledEntry {
    if (entry.peerId === this.selfPeerId) {
      throw new InvalidTrustEntryError('peerId', "peerId is this node's own; its events are always trusted")
    }
    const key = trustKeyOf(entry)
    const holder = this.byName.get(entry.name)
    if (holder !== undefined && holder !== key) {
      throw new InvalidTrustEntryError('name', `name ${entry.name} is already used by ${holder}`)
    }
    const previous = this.byKey.get(key)
    if (previous !== undefined) this.byName.delete(previous.entry.name)
    const compiled = compile(entry)
    this.byKey.set(key, compiled)
    this.byName.set(entry.name, key)
    return compiled
  }

  /** Remove by peer ID, community root key or name; false when none is listed. */
  remove (keyOrName: string): boolean {
    const compiled = this.lookup(keyOrName)
    if (compiled === undefined) return false
    this.byKey.delete(trustKeyOf(compiled.entry))
    this.byName.delete(compiled.entry.name)
    return true
  }

  /** Every entry, in the order added (a replaced entry keeps its place). */
  list (): TrustEntry[] {
    return [...this.byKey.values()].map(compiled => copyOf(compiled.entry))
  }

  /** The community root keys entries name: the communities whose manifests this node holds. */
  communityKeys (): Set<string> {
    const keys = new Set<string>()
    for (const { entry } of this.byKey.values()) if (entry.community !== undefined) keys.add(entry.community)
    return keys
  }

  get (keyOrName: string): TrustEntry | undefined {
    const compiled = this.lookup(keyOrName)
    return compiled === undefined ? undefined : copyOf(compiled.entry)
  }

  /**
   * What a decision about `origin` is made under: the mode, the origin's entry, and what the
   * trusted communities' manifests say of it. A refusal whose fingerprint differs from today's
   * may be acceptable now (a manifest listing the node, a wider entry).
   */
  fingerprint (origin: string): string {
    const base = `${this.mode} ${JSON.stringify(this.get(origin) ?? null)}`
    const communities = this.memberships(origin).flatMap(m => {
      const compiled = this.communityEntry(m)
      return compiled === undefined ? [] : [[compiled.entry, m.node ?? null, m.revoked?.version ?? null]]
    })
    // unchanged for peer-ID entries, so refusals persisted before communities existed stay valid
    return communities.length === 0 ? base : `${base} ${JSON.stringify(communities)}`
  }

  /** Trust name of a peer ID (`self` for this node, a community entry's name for its nodes), for display and subscription filters. */
  nameOf (peerId: string): string | undefined {
    if (this.isOwnCommunity(peerId)) return SELF_NAME
    const direct = this.peerEntry(peerId)
    if (direct !== undefined) return direct.entry.name
    for (const membership of this.memberships(peerId)) {
      const compiled = this.communityEntry(membership)
      if (compiled !== undefined) return compiled.entry.name
    }
    return undefined
  }

  private isOwnCommunity (peerId: string): boolean {
    return peerId === this.selfPeerId || this.isSibling(peerId)
  }

  private lookup (keyOrName: string): CompiledEntry | undefined {
    const byKey = this.byKey.get(keyOrName)
    if (byKey !== undefined) return byKey
    const key = this.byName.get(keyOrName)
    return key === undefined ? undefined : this.byKey.get(key)
  }
}
