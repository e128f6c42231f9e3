import { parseDateTime } from '../events/index.js'
import { isEd25519PeerId } from '../signing/index.js'
import { describeValue, InvalidTrustEntryError, validateTrustClasses, validateTrustName, validateTrustSources } from '../trust/index.js'
import { InvalidManifestError } from './errors.js'

/** The manifest format this code writes and reads; another number is refused. */
export const MANIFEST_FORMAT = 1
/** A manifest listing more nodes than this is refused (one community, one manifest). */
export const MAX_MANIFEST_NODES = 1000
/** Revocations accumulate across versions; the bound keeps a manifest under its size limit. */
export const MAX_MANIFEST_REVOCATIONS = 1000
/** A revocation reason is for people reading `community show`; longer text belongs elsewhere. */
export const MAX_REVOCATION_REASON_CHARS = 256

/** One node key that may sign for the community, optionally narrowed to sources and classes. */
export interface ManifestNode {
  /** the node's Ed25519 peer ID (its libp2p identity, the keyid of every record it signs) */
  peerId: string
  /** source prefixes this node may sign for, within the trust entry's; absent: the entry's */
  sources?: string[]
  /** class patterns this node may publish, within the trust entry's; absent: the entry's */
  classes?: string[]
}

/** A node key the community no longer vouches for. Revocations are never withdrawn. */
export interface Revocation {
  peerId: string
  /** the manifest version that revoked it */
  version: number
  /** why, for people; never used by code */
  reason?: string
}

/**
 * What a community's root key vouches for, at one version. Signed as canonical JSON (members in
 * this order, no whitespace; see encodeManifest) inside a SignedManifest.
 */
export interface CommunityManifest {
  format: typeof MANIFEST_FORMAT
  /** the community's name, with the rules of a trust entry name */
  community: string
  /** the community's stable id: the genesis root key, as a peer ID (`12D3KooW…`) */
  id: string
  /** ≥ 1, strictly increasing from one manifest to the next */
  version: number
  /** when the root key holder signed it (RFC 3339); informative, never compared */
  issuedAt: string
  /** the root key that signs this version, as a peer ID */
  rootKey: string
  /** set on a rotation manifest only: the root key it replaces, which signs it too */
  previousRootKey?: string
  nodes: ManifestNode[]
  revoked: Revocation[]
}

/** The one byte spelling of a manifest: what gets signed, so members are written in a fixed order. */
export function encodeManifest (manifest: CommunityManifest): string {
  const nodes = manifest.nodes.map(node => {
    const sources = node.sources === undefined ? '' : `,"sources":${JSON.stringify(node.sources)}`
    const classes = node.classes === undefined ? '' : `,"classes":${JSON.stringify(node.classes)}`
    return `{"peerId":${JSON.stringify(node.peerId)}${sources}${classes}}`
  })
  const revoked = manifest.revoked.map(r => {
    const reason = r.reason === undefined ? '' : `,"reason":${JSON.stringify(r.reason)}`
    return `{"peerId":${JSON.stringify(r.peerId)},"version":${r.version}${reason}}`
  })
  const previous = manifest.previousRootKey === undefined ? '' : `,"previousRootKey":${JSON.stringify(manifest.previousRootKey)}`
  return `{"format":${manifest.format},"community":${JSON.stringify(manifest.community)},"id":${JSON.stringify(manifest.id)},` +
    `"version":${manifest.version},"issuedAt":${JSON.stringify(manifest.issuedAt)},"rootKey":${JSON.stringify(manifest.rootKey)}${previous},` +
    `"nodes":[${nodes.join(',')}],"revoked":[${revoked.join(',')}]}`
}

const MANIFEST_FIELDS = new Set(['format', 'community', 'id', 'version', 'issuedAt', 'rootKey', 'previousRootKey', 'nodes', 'revoked'])
const NODE_FIELDS = new Set(['peerId', 'sources', 'classes'])
const REVOCATION_FIELDS = new Set(['peerId', 'version', 'reason'])
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/

/**
 * Check a manifest's shape and rules and return it as a new object. Throws InvalidManifestError
 * naming the field. Not checked here: signatures and the relation to earlier versions (chain.ts).
 */
export function validateManifest (value: unknown): CommunityManifest {
  const input = object(value, 'manifest', MANIFEST_FIELDS)
  if (input.format !== MANIFEST_FORMAT) throw new InvalidManifestError('format', `format must be ${MANIFEST_FORMAT}, got ${describeValue(input.format)}`)
  const community = scoped(() => validateTrustName(input.community, 'community'))
  const id = peerId(input.id, 'id')
  const version = positiveInteger(input.version, 'version')
  if (typeof input.issuedAt !== 'string' || parseDateTime(input.issuedAt) === undefined) {
    throw new InvalidManifestError('issuedAt', `issuedAt must be an RFC 3339 date-time, got ${describeValue(input.issuedAt)}`)
  }
  const rootKey = peerId(input.rootKey, 'rootKey')
  const previousRootKey = input.previousRootKey === undefined ? undefined : peerId(input.previousRootKey, 'previousRootKey')
  if (previousRootKey === rootKey) throw new InvalidManifestError('previousRootKey', 'previousRootKey is the rootKey itself: a rotation needs a new key')

  const nodes = list(input.nodes, 'nodes', MAX_MANIFEST_NODES).map((item, i) => manifestNode(item, `nodes[${i}]`))
  const revoked = list(input.revoked, 'revoked', MAX_MANIFEST_REVOCATIONS).map((item, i) => revocation(item, `revoked[${i}]`, version))
  const seen = new Set<string>()
  nodes.forEach((node, i) => {
    if (seen.has(node.peerId)) throw new InvalidManifestError(`nodes[${i}].peerId`, `node ${node.peerId} is listed twice`)
    seen.add(node.peerId)
  })
  revoked.forEach((r, i) => {
    if (seen.has(r.peerId)) throw new InvalidManifestError(`revoked[${i}].peerId`, `key ${r.peerId} is ${nodes.some(n => n.peerId === r.peerId) ? 'both a node and revoked' : 'revoked twice'}`)
    seen.add(r.peerId)
  })
  // the root key stays offline; a node holding it could sign the community's next manifest
  if (seen.has(rootKey)) throw new InvalidManifestError('rootKey', `the root key ${rootKey} is also listed as a node key: keep root keys offline`)

  return {
    format: MANIFEST_FORMAT,
    community,
    id,
    version,
    issuedAt: input.issuedAt,
    rootKey,
    ...(previousRootKey === undefined ? {} : { previousRootKey }),
    nodes,
    revoked
  }
}

function manifestNode (value: unknown, field: string): ManifestNode {
  const input = object(value, field, NODE_FIELDS)
  const node: ManifestNode = { peerId: peerId(input.peerId, `${field}.peerId`) }
  if (input.sources !== undefined) node.sources = scoped(() => validateTrustSources(input.sources, `${field}.sources`))
  if (input.classes !== undefined) node.classes = scoped(() => validateTrustClasses(input.classes, `${field}.classes`))
  return node
}

function revocation (value: unknown, field: string, manifestVersion: number): Revocation {
  const input = object(value, field, REVOCATION_FIELDS)
  const result: Revocation = { peerId: peerId(input.peerId, `${field}.peerId`), version: positiveInteger(input.version, `${field}.version`) }
  if (result.version > manifestVersion) throw new InvalidManifestError(`${field}.version`, `${field}.version ${result.version} is after the manifest's own version ${manifestVersion}`)
  if (input.reason !== undefined) {
    const reason = input.reason
    if (typeof reason !== 'string' || reason.length > MAX_REVOCATION_REASON_CHARS || CONTROL_CHARS.test(reason)) {
      throw new InvalidManifestError(`${field}.reason`, `${field}.reason must be a line of at most ${MAX_REVOCATION_REASON_CHARS} characters, got ${describeValue(reason)}`)
    }
    result.reason = reason
  }
  return result
}

/** Trust entry validators speak CDG_INVALID_REQUEST; inside a manifest the same problem is CDG_INVALID_MANIFEST. */
function scoped<T> (validate: () => T): T {
  try {
    return validate()
  } catch (err) {
    if (err instanceof InvalidTrustEntryError) throw new InvalidManifestError(err.details.field, err.message, { cause: err })
    throw err
  }
}

function object (value: unknown, field: string, fields: Set<string>): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidManifestError(field, `${field} must be an object, got ${describeValue(value)}`)
  for (const key of Object.keys(value)) {
    if (!fields.has(key)) throw new InvalidManifestError(field, `${field} has an unknown member ${describeValue(key)}`)
  }
  return value as Record<string, unknown>
}

function list (value: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(value) || value.length > max) throw new InvalidManifestError(field, `${field} must be a list of at most ${max} entries, got ${describeValue(value)}`)
  return value
}

function peerId (value: unknown, field: string): string {
  if (typeof value !== 'string' || !isEd25519PeerId(value)) {
    throw new InvalidManifestError(field, `${field} must be an Ed25519 peer ID in its base58 form (12D3KooW…), got ${describeValue(value)}`)
  }
  return value
}

function positiveInteger (value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidManifestError(field, `${field} must be an integer ≥ 1, got ${describeValue(value)}`)
  }
  return value
}

export type Membership =
  | { status: 'node', node: ManifestNode }
  | { status: 'revoked', revocation: Revocation }

/** What the manifest says of `peerId`: a node (with its scopes), revoked, or `undefined` (not its key). */
export function membership (manifest: CommunityManifest, peerId: string): Membership | undefined {
  const node = manifest.nodes.find(n => n.peerId === peerId)
  if (node !== undefined) return { status: 'node', node }
  const revocation = manifest.revoked.find(r => r.peerId === peerId)
  if (revocation !== undefined) return { status: 'revoked', revocation }
  return undefined
}
