import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto'
import { createRequire } from 'node:module'
import type { KeyObject } from 'node:crypto'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'

/**
 * Ed25519 with keys prepared once per key (node:crypto KeyObjects, and their raw bytes for
 * libsodium). @libp2p/crypto's sign/verify rebuild a KeyObject from JWK on every call (and are
 * typed as maybe-async); signing and verifying every record is the hot path, and both libraries'
 * one-shot Ed25519 calls are synchronous.
 */

export const ED25519_SIGNATURE_BYTES = 64

/** The DER (SPKI) form of an Ed25519 public key is this fixed prefix and then the 32 raw bytes. */
export const ED25519_SPKI_PREFIX_BYTES = 12

/** What cdgossip uses of sodium-native: libsodium's detached Ed25519 signatures. */
interface Sodium {
  crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}

/**
 * The Ed25519 library. libsodium (sodium-native's prebuilt addon, no build at install) verifies
 * in ~50 µs where node:crypto (OpenSSL) takes ~105 µs on the bench machine, and signs in ~17 µs
 * against ~35 µs; every receiving node verifies every record. Ed25519 signatures are
 * deterministic, so both libraries write the same bytes, and both accept every signature an
 * honest signer makes; on crafted edge cases (small-order or non-canonical points) libsodium is
 * the stricter. On a platform without a prebuilt addon node:crypto does both.
 */
function loadSodium (): { sodium: Sodium, path: string } | undefined {
  try {
    const require = createRequire(import.meta.url)
    const path = require.resolve('sodium-native')
    return { sodium: require(path) as Sodium, path }
  } catch {
    return undefined
  }
}

const sodiumModule = loadSodium()

/** Which library signs and verifies Ed25519 in this process. */
export const ED25519_LIBRARY: 'libsodium' | 'node:crypto' = sodiumModule === undefined ? 'node:crypto' : 'libsodium'

/** sodium-native's resolved path, for worker threads to load the same addon (or `undefined`). */
export const SODIUM_MODULE_PATH: string | undefined = sodiumModule?.path

const spkiForms = new WeakMap<KeyObject, Buffer>()

/** A public key's DER (SPKI) form, exported once per KeyObject (the verify workers get keys so). */
export function spkiDer (publicKey: KeyObject): Buffer {
  let der = spkiForms.get(publicKey)
  if (der === undefined) {
    der = publicKey.export({ format: 'der', type: 'spki' })
    spkiForms.set(publicKey, der)
  }
  return der
}

/**
 * Peer IDs are base58btc of an identity multihash; an Ed25519 one is 52 characters. The bound
 * only keeps hostile keyids away from the multibase decoder.
 */
const MAX_PEER_ID_CHARS = 128

/**
 * Verifying keys by peer ID. A node sees a handful of origins (its trusted communities), so a
 * small map hits nearly always; the bound keeps a flood of made-up keyids from growing it.
 */
const MAX_CACHED_PUBLIC_KEYS = 1024
const publicKeys = new Map<string, KeyObject>()

interface SigningKey {
  keyObject: KeyObject
  /** seed || public key, libsodium's secret key layout (and @libp2p/crypto's `raw`) */
  secretKey: Uint8Array
  peerId: string
}

const signingKeys = new WeakMap<PrivateKey, SigningKey>()

function signingKeyFor (privateKey: PrivateKey): SigningKey {
  let key = signingKeys.get(privateKey)
  if (key === undefined) {
    if (privateKey.type !== 'Ed25519') throw new TypeError(`cdgossip signs with Ed25519 keys, not ${privateKey.type}`)
    // @libp2p/crypto keeps Ed25519 private keys as seed (32 bytes) || public key (32 bytes)
    const raw = privateKey.raw
    if (raw.byteLength !== 64) throw new TypeError(`an Ed25519 private key is 64 bytes (seed and public key), not ${raw.byteLength}`)
    const keyObject = createPrivateKey({
      format: 'jwk',
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        d: Buffer.from(raw.subarray(0, 32)).toString('base64url'),
        x: Buffer.from(privateKey.publicKey.raw).toString('base64url')
      }
    })
    key = { keyObject, secretKey: raw, peerId: peerIdFromPrivateKey(privateKey).toString() }
    signingKeys.set(privateKey, key)
  }
  return key
}

/**
 * Sign `message` with an Ed25519 libp2p key that must belong to `peerId` (the DSSE keyid we
 * are about to write). A mismatch is a wiring bug, so it throws a plain Error.
 */
export function signEd25519 (privateKey: PrivateKey, peerId: string, message: Uint8Array): Uint8Array {
  const key = signingKeyFor(privateKey)
  if (key.peerId !== peerId) throw new Error(`signer peer ID ${peerId} does not match its private key (${key.peerId})`)
  if (sodiumModule === undefined) return cryptoSign(null, message, key.keyObject)
  // from Node's Buffer pool: every caller encodes it into the envelope and lets it go
  const signature = Buffer.allocUnsafe(ED25519_SIGNATURE_BYTES)
  sodiumModule.sodium.crypto_sign_detached(signature, message, key.secretKey)
  return signature
}

/**
 * The Ed25519 public key a peer ID embeds, or `undefined` when `peerId` is not the canonical
 * string of an Ed25519 peer ID (other key types hash their key, so the ID alone cannot verify;
 * other spellings of the same ID would give one origin two names).
 */
export function ed25519KeyFromPeerId (peerId: string): KeyObject | undefined {
  const cached = publicKeys.get(peerId)
  if (cached !== undefined) return cached
  if (peerId.length === 0 || peerId.length > MAX_PEER_ID_CHARS) return undefined
  let parsed
  try {
    parsed = peerIdFromString(peerId)
  } catch {
    return undefined
  }
  if (parsed.type !== 'Ed25519' || parsed.toString() !== peerId) return undefined
  const keyObject = createPublicKey({
    format: 'jwk',
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(parsed.publicKey.raw).toString('base64url') }
  })
  if (publicKeys.size >= MAX_CACHED_PUBLIC_KEYS) {
    // Map iterates in insertion order: drop the oldest entry
    const oldest = publicKeys.keys().next()
    if (oldest.done !== true) publicKeys.delete(oldest.value)
  }
  publicKeys.set(peerId, keyObject)
  return keyObject
}

/** `true` when `peerId` is the canonical string of an Ed25519 peer ID. */
export function isEd25519PeerId (peerId: string): boolean {
  return ed25519KeyFromPeerId(peerId) !== undefined
}

export function verifyEd25519 (publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.byteLength !== ED25519_SIGNATURE_BYTES) return false
  return sodiumModule !== undefined
    ? sodiumModule.sodium.crypto_sign_verify_detached(signature, message, spkiDer(publicKey).subarray(ED25519_SPKI_PREFIX_BYTES))
    : cryptoVerify(null, message, publicKey, signature)
}
