import { InvalidManifestError, StaleManifestError } from './errors.js'
import type { CommunityManifest } from './manifest.js'
import { checkSignatures, openSignedManifest, type OpenedManifest, type SignedManifest } from './signed-manifest.js'

/** A community may rotate its root key this many times; the chain stays small enough to gossip. */
export const MAX_ROOT_ROTATIONS = 64
/** genesis, every rotation, and the latest */
export const MAX_CHAIN_LENGTH = MAX_ROOT_ROTATIONS + 2

/**
 * A community's manifests as far as they are verified: the genesis, every rotation manifest and
 * the latest, each signed as the rules ask (see acceptManifest). `chain` is what a node hands on
 * so that others can verify `manifest` from any root key of the community they trust.
 */
export interface VerifiedChain {
  /** the latest manifest */
  manifest: CommunityManifest
  /** genesis, each rotation manifest, then the latest (when it is neither) */
  chain: SignedManifest[]
  /** every root key the community has had, oldest (the community id) first; the last is current */
  rootKeys: string[]
}

/**
 * Verify a chain (genesis, every rotation manifest, the latest) and return its latest manifest,
 * provided the chain passes through `anchor`, a root key the caller trusts (a trust entry's
 * community key, or the current root key of the chain the caller holds). See verifyChain.
 */
export function verifyManifestChain (chain: unknown, anchor: string): CommunityManifest {
  return verifyChain(chain, anchor).manifest
}

/**
 * Verify a chain from outside: the first element is a genesis (signed by the community id, the
 * first root key; any version before the first rotation will do), each later one a valid successor of the one before (acceptManifest's rules),
 * every element but the first and the last a rotation, and `anchor` one of the chain's root keys.
 * Throws InvalidManifestError naming `chain[i]…`.
 */
export function verifyChain (chain: unknown, anchor: string): VerifiedChain {
  if (!Array.isArray(chain) || chain.length === 0 || chain.length > MAX_CHAIN_LENGTH) {
    throw new InvalidManifestError('chain', `a manifest chain is a list of 1..${MAX_CHAIN_LENGTH} signed manifests (genesis, each root rotation, the latest)`)
  }
  let held = genesis(openSignedManifest(chain[0], 'chain[0]'), 'chain[0]')
  for (let i = 1; i < chain.length; i++) {
    const field = `chain[${i}]`
    const opened = openSignedManifest(chain[i], field)
    if (i < chain.length - 1 && !isRotation(held, opened)) {
      throw new InvalidManifestError(field, `${field} is version ${opened.manifest.version}, neither a root rotation nor the latest manifest: a chain holds the genesis, each rotation and the latest`)
    }
    try {
      held = successor(held, opened, field)
    } catch (err) {
      if (err instanceof StaleManifestError) throw new InvalidManifestError(field, `${field}: versions must increase along the chain (${err.message})`, { cause: err })
      throw err
    }
  }
  if (!held.rootKeys.includes(anchor)) {
    throw new InvalidManifestError('chain', `the chain of community ${held.manifest.community} (${held.manifest.id}) does not pass through the trusted root key ${anchor}`)
  }
  return held
}

/**
 * Take `next` as the community's newest manifest. With nothing held, `next` must be a genesis
 * (signed by the community id; the caller decides whether it trusts that key). Otherwise `next` must belong to
 * the same community and have a higher version (CDG_STALE_MANIFEST if not), and be signed by:
 * - its rootKey, when that is the held root key;
 * - its rootKey and the held root key, when it rotates the root (TUF-style), naming the held
 *   root key as previousRootKey; a root key the community retired cannot come back.
 * A manifest signed by a retired root key alone therefore never replaces a newer one.
 */
export function acceptManifest (held: VerifiedChain | undefined, next: unknown): VerifiedChain {
  const opened = openSignedManifest(next)
  return held === undefined ? genesis(opened, 'manifest') : successor(held, opened, 'manifest')
}

/**
 * Take a whole chain from outside in place of the held one: it must pass through the held
 * current root key (so a chain forked off a retired root is refused) and end at a higher version.
 */
export function acceptChain (held: VerifiedChain, chain: unknown): VerifiedChain {
  const verified = verifyChain(chain, held.manifest.rootKey)
  if (verified.manifest.id !== held.manifest.id) {
    throw new InvalidManifestError('chain', `the chain is of community ${verified.manifest.id}, not ${held.manifest.id}`)
  }
  staleness(held, verified.manifest)
  return verified
}

function genesis (opened: OpenedManifest, field: string): VerifiedChain {
  const { manifest } = opened
  if (manifest.id !== manifest.rootKey || manifest.previousRootKey !== undefined) {
    throw new InvalidManifestError(field, `${field} is signed by root key ${manifest.rootKey}, not by the community id ${manifest.id}: send the chain from the genesis (community export)`)
  }
  checkSignatures(opened, [manifest.rootKey], field)
  return { manifest, chain: [opened.signed], rootKeys: [manifest.rootKey] }
}

function isRotation (held: VerifiedChain, opened: OpenedManifest): boolean {
  return opened.manifest.rootKey !== held.manifest.rootKey
}

function successor (held: VerifiedChain, opened: OpenedManifest, field: string): VerifiedChain {
  const { manifest } = opened
  const current = held.manifest
  if (manifest.id !== current.id) throw new InvalidManifestError(`${field}.payload.id`, `${field} is of community ${manifest.id}, not ${current.id}`)
  if (manifest.community !== current.community) {
    throw new InvalidManifestError(`${field}.payload.community`, `${field} renames community ${current.community} to ${manifest.community}; a community keeps its name`)
  }
  staleness(held, manifest)

  // the held chain ends at its latest manifest; keep it only when the genesis or a rotation
  const last = held.chain.length - 1
  const kept = last > 0 && held.manifest.previousRootKey === undefined ? held.chain.slice(0, last) : held.chain
  if (!isRotation(held, opened)) {
    if (manifest.previousRootKey !== undefined) {
      throw new InvalidManifestError(`${field}.payload.previousRootKey`, `${field} keeps root key ${manifest.rootKey} but names a previousRootKey: only a rotation does`)
    }
    checkSignatures(opened, [manifest.rootKey], field)
    return { manifest, chain: [...kept, opened.signed], rootKeys: held.rootKeys }
  }

  if (held.rootKeys.includes(manifest.rootKey)) {
    throw new InvalidManifestError(`${field}.payload.rootKey`, `${field} is signed for root key ${manifest.rootKey}, which community ${current.community} retired; its current root key is ${current.rootKey}`)
  }
  if (manifest.previousRootKey !== current.rootKey) {
    throw new InvalidManifestError(`${field}.payload.previousRootKey`, `${field} changes the root key to ${manifest.rootKey} but does not name the current root key ${current.rootKey} as previousRootKey`)
  }
  if (held.rootKeys.length > MAX_ROOT_ROTATIONS) {
    throw new InvalidManifestError(field, `community ${current.community} has rotated its root key ${MAX_ROOT_ROTATIONS} times, the most a chain may hold`)
  }
  checkSignatures(opened, [manifest.rootKey, current.rootKey], field)
  return { manifest, chain: [...kept, opened.signed], rootKeys: [...held.rootKeys, manifest.rootKey] }
}

function staleness (held: VerifiedChain, manifest: CommunityManifest): void {
  if (manifest.version <= held.manifest.version) {
    throw new StaleManifestError({ id: held.manifest.id, heldVersion: held.manifest.version, version: manifest.version })
  }
}
