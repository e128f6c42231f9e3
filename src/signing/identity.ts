import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { KeyFileError } from './errors.js'
import { isErrno, readSecretFile, writeNewSecretFile } from './secret-file.js'

export interface Identity {
  /** the node's Ed25519 libp2p key: its libp2p identity and the community signing key */
  privateKey: PrivateKey
  /** the peer ID string: DSSE keyid and origin of every record this node signs */
  peerId: string
  /** `true` when this call generated the key */
  created: boolean
}

/** A protobuf Ed25519 private key is 68 bytes; anything much bigger is not our file. */
const MAX_KEY_FILE_BYTES = 4096

const WHAT = 'identity key file'

/**
 * Load the node identity from `keyPath` (a libp2p protobuf private key), or create it when the
 * file does not exist. Creation is atomic (see writeNewSecretFile), so a crash never leaves a
 * half-written key and two concurrent first starts end up with the same identity. Loading
 * refuses (KeyFileError, CDG_CONFIG) a key file that group or others may access, anything that
 * is not a regular file, and any key type but Ed25519.
 */
export async function loadOrCreateIdentity (keyPath: string): Promise<Identity> {
  const existing = await loadIdentity(keyPath)
  if (existing !== undefined) return existing
  const privateKey = await generateKeyPair('Ed25519')
  const created = await writeNewSecretFile(keyPath, privateKeyToProtobuf(privateKey), WHAT)
  // someone else created it first: theirs is the identity
  if (!created) return await loadExisting(keyPath)
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created: true }
}

async function loadIdentity (keyPath: string): Promise<Identity | undefined> {
  try {
    return await loadExisting(keyPath)
  } catch (err) {
    if (err instanceof KeyFileError && isErrno(err.cause, 'ENOENT')) return undefined
    throw err
  }
}

async function loadExisting (keyPath: string): Promise<Identity> {
  const bytes = await readSecretFile(keyPath, { what: WHAT, maxBytes: MAX_KEY_FILE_BYTES })
  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new KeyFileError(keyPath, `${WHAT} ${keyPath} does not hold a libp2p private key`, { cause: err })
  }
  if (privateKey.type !== 'Ed25519') {
    throw new KeyFileError(keyPath, `${WHAT} ${keyPath} holds a ${privateKey.type} key; cdgossip needs Ed25519`)
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created: false }
}
