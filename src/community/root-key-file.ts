import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeBase64, encodeBase64, KeyFileError, readSecretFile, replaceSecretFile, writeNewSecretFile } from '../signing/index.js'
import { verifyChain, type VerifiedChain } from './chain.js'
import { MAX_CHAIN_DOCUMENT_BYTES } from './chain-file.js'
import { genesisChain } from './edits.js'

/**
 * A community root key file: the root private key and the community's manifest chain, one JSON
 * document, mode 0600. It lives with the operator, offline; nodes get only the chain
 * (`community export`, `community publish`). Each edit rewrites it in one step; a rotation
 * writes the new root key's file and records the rotation in the old one, which is then retired
 * (it can still be read, not used to sign).
 */
export interface RootKeyFile {
  path: string
  privateKey: PrivateKey
  /** the file's root key as a peer ID */
  rootKey: string
  chain: VerifiedChain
}

const KIND = 'cdgossip community root key'
const FORMAT = 1
const WHAT = 'community root key file'
/** the longest chain and room for the key */
const MAX_FILE_BYTES = MAX_CHAIN_DOCUMENT_BYTES + 4096

/** Generate a root key and the genesis manifest of `community`; refuses to overwrite `filePath`. */
export async function createRootKeyFile (filePath: string, community: string, now = new Date()): Promise<RootKeyFile> {
  const privateKey = await generateKeyPair('Ed25519')
  return await writeRootKeyFile(filePath, privateKey, genesisChain(community, privateKey, now))
}

/** Write a new key file (refusing to overwrite one) for `privateKey` and the chain it signs. */
export async function writeRootKeyFile (filePath: string, privateKey: PrivateKey, chain: VerifiedChain): Promise<RootKeyFile> {
  const file = { path: filePath, privateKey, rootKey: peerIdFromPrivateKey(privateKey).toString(), chain }
  if (!await writeNewSecretFile(filePath, encode(file), WHAT)) {
    throw new KeyFileError(filePath, `${filePath} already exists; a ${WHAT} is never overwritten (choose another path, or move the old one away)`)
  }
  return file
}

/** Replace the chain in an existing key file after an edit. */
export async function saveRootKeyFile (file: RootKeyFile, chain: VerifiedChain): Promise<RootKeyFile> {
  const updated = { ...file, chain }
  await replaceSecretFile(file.path, encode(updated), WHAT)
  return updated
}

/**
 * Read a key file: refused when group or others may access it, when it is not ours, when its key
 * is not Ed25519 or not the key it names, or when its chain does not verify through its key.
 */
export async function loadRootKeyFile (filePath: string): Promise<RootKeyFile> {
  const bytes = await readSecretFile(filePath, { what: WHAT, maxBytes: MAX_FILE_BYTES })
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw new KeyFileError(filePath, `${WHAT} ${filePath} is not JSON`, { cause: err })
  }
  const doc = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>
  if (doc.kind !== KIND || doc.format !== FORMAT) throw new KeyFileError(filePath, `${filePath} is not a ${WHAT} (format ${FORMAT})`)
  const keyBytes = typeof doc.privateKey === 'string' ? decodeBase64(doc.privateKey) : undefined
  let privateKey: PrivateKey
  try {
    if (keyBytes === undefined) throw new Error('not base64')
    privateKey = privateKeyFromProtobuf(keyBytes)
  } catch (err) {
    throw new KeyFileError(filePath, `${WHAT} ${filePath} does not hold a libp2p private key`, { cause: err })
  }
  if (privateKey.type !== 'Ed25519') throw new KeyFileError(filePath, `${WHAT} ${filePath} holds a ${privateKey.type} key; root keys are Ed25519`)
  const rootKey = peerIdFromPrivateKey(privateKey).toString()
  if (doc.rootKey !== rootKey) throw new KeyFileError(filePath, `${WHAT} ${filePath} names root key ${String(doc.rootKey)} but holds the private key of ${rootKey}`)
  let chain: VerifiedChain
  try {
    chain = verifyChain(doc.chain, rootKey)
  } catch (err) {
    throw new KeyFileError(filePath, `${WHAT} ${filePath} holds a manifest chain that does not verify: ${(err as Error).message}`, { cause: err })
  }
  return { path: filePath, privateKey, rootKey, chain }
}

/** The key file's key, when it is the community's current root key; a retired one signs nothing more. */
export function currentRootKey (file: RootKeyFile): PrivateKey {
  const current = file.chain.manifest.rootKey
  if (current !== file.rootKey) {
    throw new KeyFileError(file.path, `${file.path} holds root key ${file.rootKey}, which community ${file.chain.manifest.community} retired; its current root key is ${current} (use that key file)`)
  }
  return file.privateKey
}

function encode (file: RootKeyFile): Uint8Array {
  const doc = {
    kind: KIND,
    format: FORMAT,
    community: file.chain.manifest.community,
    rootKey: file.rootKey,
    privateKey: encodeBase64(privateKeyToProtobuf(file.privateKey)),
    chain: file.chain.chain
  }
  return new TextEncoder().encode(`${JSON.stringify(doc, null, 2)}\n`)
}
