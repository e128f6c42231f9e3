import { peerIdFromString } from '@libp2p/peer-id'
import { classPatternProblem } from '../events/index.js'
import { MAX_CLASS_PATTERN_LENGTH, isValidClassPattern } from './class-pattern.js'
import { InvalidTrustEntryError } from './errors.js'
import type { TrustEntry } from './types.js'

/** A trust entry as the API and the config file accept it: `classes` may be left out. */
export type TrustEntryInput = Omit<TrustEntry, 'classes'> & { classes?: string[] }

/** Names show up in logs, queries and URLs, so they are short and shell/URL safe. */
export const TRUST_NAME_REGEX = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'
const TRUST_NAME = new RegExp(TRUST_NAME_REGEX)

/** The verdict name of this node's own events; no entry may take it. */
export const SELF_NAME = 'self'

/** An Ed25519 peer ID is 52 characters in base58; the bound only stops absurd input before parsing. */
export const MAX_PEER_ID_LENGTH = 128
/** A community with more source prefixes than this should use a shorter common prefix or `*`. */
export const MAX_TRUST_SOURCES = 64
/** CloudEvent sources are URI-references; longer ones are not seen in practice. */
export const MAX_SOURCE_PREFIX_LENGTH = 1024
/** The standard vocabulary has 45 classes; room for custom ones on top. */
export const MAX_TRUST_CLASSES = 128
/** @default every class */
export const DEFAULT_TRUST_CLASSES: readonly string[] = Object.freeze(['*'])

const ENTRY_FIELDS = new Set(['peerId', 'community', 'name', 'sources', 'classes'])

/**
 * JSON Schema (draft 2020-12 / draft-07 compatible, no `format`) of a trust entry as the API and
 * the config file accept it. It checks shape only; `validateTrustEntry` also checks that the peer
 * ID really is an Ed25519 key and normalises it, so run both.
 */
export const trustEntryInputSchema = {
  type: 'object',
  additionalProperties: false,
  // exactly one of peerId and community: validateTrustEntry says so with a clearer message than oneOf
  required: ['name', 'sources'],
  properties: {
    peerId: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_PEER_ID_LENGTH,
      description: "the community's Ed25519 peer ID, e.g. 12D3KooW…; or give `community` instead"
    },
    community: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_PEER_ID_LENGTH,
      description: 'a root key of the community manifest (peer-ID form, 12D3KooW…): every node it lists is trusted within this entry and its own scopes'
    },
    name: {
      type: 'string',
      pattern: TRUST_NAME_REGEX,
      description: `unique display name; \`${SELF_NAME}\` is reserved and a peer ID is not a name`
    },
    sources: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_TRUST_SOURCES,
      items: { type: 'string', minLength: 1, maxLength: MAX_SOURCE_PREFIX_LENGTH },
      description: 'CloudEvent source prefixes the community may sign for; `*` means any source'
    },
    classes: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_TRUST_CLASSES,
      // no `pattern`: validateTrustEntry names a bad one with the nearest subject or class, not a regex
      items: { type: 'string', minLength: 1, maxLength: MAX_CLASS_PATTERN_LENGTH },
      description: 'event-class patterns it may publish: `*`, `artifact.*`, `pipelinerun.finished`; default `["*"]`'
    }
  }
} as const

/** Why a value was refused, without echoing unbounded or control characters into messages. */
export function describeValue (value: unknown): string {
  if (typeof value !== 'string') return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`
  const clipped = value.length > 80 ? `${value.slice(0, 80)}…` : value
  return JSON.stringify(clipped)
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The canonical string of an Ed25519 peer ID, or an InvalidTrustEntryError naming `field`. */
export function parseEd25519PeerId (value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PEER_ID_LENGTH) {
    throw new InvalidTrustEntryError(field, `${field} must be a peer ID string of 1..${MAX_PEER_ID_LENGTH} characters, got ${describeValue(value)}`)
  }
  let peerId
  try {
    peerId = peerIdFromString(value)
  } catch {
    throw new InvalidTrustEntryError(field, `${field} ${describeValue(value)} is not a peer ID`)
  }
  if (peerId.type !== 'Ed25519') {
    throw new InvalidTrustEntryError(field, `${field} ${describeValue(value)} is a ${peerId.type} peer ID; communities sign with Ed25519 keys`)
  }
  // the base58 form is what DSSE keyids and event origins carry, whatever form was given
  return peerId.toString()
}

function looksLikePeerId (value: string): boolean {
  try {
    peerIdFromString(value)
    return true
  } catch {
    return false
  }
}

/** The key an entry is stored and listed under: its peer ID, or its community root key. */
export function trustKeyOf (entry: Pick<TrustEntry, 'peerId' | 'community'>): string {
  const key = entry.peerId ?? entry.community
  if (key === undefined) throw new Error('a validated trust entry has a peerId or a community')
  return key
}

/**
 * Validate and normalise one trust entry from outside (API body, config file). Returns a new
 * object; the key comes back in its canonical base58 form and `classes` defaults to `['*']`.
 * Uniqueness against other entries is the policy's job.
 */
export function validateTrustEntry (input: unknown): TrustEntry {
  if (!isPlainObject(input)) throw new InvalidTrustEntryError('entry', `a trust entry must be an object, got ${describeValue(input)}`)
  for (const key of Object.keys(input)) {
    if (!ENTRY_FIELDS.has(key)) throw new InvalidTrustEntryError(key, `unknown trust entry field ${describeValue(key)}`)
  }

  if ((input.peerId === undefined) === (input.community === undefined)) {
    throw new InvalidTrustEntryError(input.peerId === undefined ? 'peerId' : 'community', 'a trust entry names exactly one of peerId (one node) or community (a community root key)')
  }
  const key = input.peerId === undefined
    ? { community: parseEd25519PeerId(input.community, 'community') }
    : { peerId: parseEd25519PeerId(input.peerId, 'peerId') }

  const name = validateTrustName(input.name, 'name')
  const sources = validateTrustSources(input.sources, 'sources')
  const classes = input.classes === undefined ? [...DEFAULT_TRUST_CLASSES] : validateTrustClasses(input.classes, 'classes')
  return { ...key, name, sources, classes }
}

/**
 * A community name as trust entries and community manifests carry it: short, shell and URL safe,
 * not `self`, not a peer ID. Throws InvalidTrustEntryError naming `field`.
 */
export function validateTrustName (name: unknown, field: string): string {
  if (typeof name !== 'string' || !TRUST_NAME.test(name)) {
    throw new InvalidTrustEntryError(field, `${field} must match ${TRUST_NAME_REGEX}, got ${describeValue(name)}`)
  }
  if (name === SELF_NAME) throw new InvalidTrustEntryError(field, `${field} "${SELF_NAME}" is reserved for this node's own events`)
  // names and peer IDs share one lookup (remove/get by either), so a name must not read as a peer ID
  if (looksLikePeerId(name)) throw new InvalidTrustEntryError(field, `${field} must not be a peer ID`)
  return name
}

/** 1..MAX_TRUST_SOURCES source prefixes (`*` for any), duplicates dropped; InvalidTrustEntryError naming `field`. */
export function validateTrustSources (sources: unknown, field: string): string[] {
  if (!Array.isArray(sources) || sources.length === 0 || sources.length > MAX_TRUST_SOURCES) {
    throw new InvalidTrustEntryError(field, `${field} must be a list of 1..${MAX_TRUST_SOURCES} source prefixes (or ["*"]), got ${describeValue(sources)}`)
  }
  const normalised: string[] = []
  sources.forEach((source: unknown, i) => {
    if (typeof source !== 'string' || source.length === 0 || source.length > MAX_SOURCE_PREFIX_LENGTH) {
      throw new InvalidTrustEntryError(`${field}[${i}]`, `${field}[${i}] must be a non-empty string of at most ${MAX_SOURCE_PREFIX_LENGTH} characters, got ${describeValue(source)}`)
    }
    if (!normalised.includes(source)) normalised.push(source)
  })
  return normalised
}

/** 1..MAX_TRUST_CLASSES class patterns, duplicates dropped; InvalidTrustEntryError naming `field`. */
export function validateTrustClasses (given: unknown, field: string): string[] {
  if (!Array.isArray(given) || given.length === 0 || given.length > MAX_TRUST_CLASSES) {
    throw new InvalidTrustEntryError(field, `${field} must be a list of 1..${MAX_TRUST_CLASSES} class patterns, got ${describeValue(given)}`)
  }
  const classes: string[] = []
  given.forEach((pattern: unknown, i) => {
    if (!isValidClassPattern(pattern)) {
      const why = typeof pattern === 'string' ? classPatternProblem(pattern) : undefined
      throw new InvalidTrustEntryError(`${field}[${i}]`, `${field}[${i}]: ${why ?? `${describeValue(pattern)} is not a class pattern (*, <subject>.*, <subject>.<predicate>, x.<tool>-<subject>.<predicate>)`}`)
    }
    if (!classes.includes(pattern)) classes.push(pattern)
  })
  return classes
}
