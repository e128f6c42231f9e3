import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { chmod, link, lstat, mkdir, open, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { KeyFileError } from './errors.js'

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

const FILE_MODE = 0o600
const DIR_MODE = 0o700
/** group and others: none of these bits may be set on a key file */
const GROUP_OTHER_BITS = 0o077

/**
 * Load the node identity from `keyPath` (a libp2p protobuf private key), or create it when the
 * file does not exist. Creation is atomic: the key is written to a 0600 temp file in the same
 * directory, synced, then linked into place, so a crash never leaves a half-written key and
 * two concurrent first starts end up with the same identity. A missing parent directory is
 * created 0700. Loading refuses (KeyFileError, CDG_CONFIG) a key file that group or others
 * may access, anything that is not a regular file, and any key type but Ed25519.
 */
export async function loadOrCreateIdentity (keyPath: string): Promise<Identity> {
  const existing = await loadIdentity(keyPath)
  if (existing !== undefined) return existing
  const created = await createIdentity(keyPath)
  // someone else created it first: theirs is the identity
  return created ?? await loadExisting(keyPath)
}

async function loadIdentity (keyPath: string): Promise<Identity | undefined> {
  try {
    return await loadExisting(keyPath)
  } catch (err) {
    if (err instanceof KeyFileError && isErrno(err.cause, 'ENOENT')) return undefined
    throw err
  }
}

/** O_NONBLOCK: opening a FIFO planted at the key path must not hang the node. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)

async function loadExisting (keyPath: string): Promise<Identity> {
  let bytes: Uint8Array
  // open first, then check the open file: nothing can be swapped in between check and read
  let handle
  try {
    handle = await open(keyPath, OPEN_FLAGS)
  } catch (err) {
    throw new KeyFileError(keyPath, `cannot open identity key file ${keyPath}: ${(err as Error).message}`, { cause: err })
  }
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) throw new KeyFileError(keyPath, `identity key ${keyPath} is not a regular file`)
    if (process.platform !== 'win32' && (stat.mode & GROUP_OTHER_BITS) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0')
      throw new KeyFileError(keyPath, `identity key file ${keyPath} is accessible by group or others (mode ${mode}); run: chmod 600 ${keyPath}`)
    }
    if (stat.size > MAX_KEY_FILE_BYTES) throw new KeyFileError(keyPath, `identity key file ${keyPath} is too large to be a libp2p key`)
    bytes = await handle.readFile()
  } finally {
    await handle.close()
  }

  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new KeyFileError(keyPath, `identity key file ${keyPath} does not hold a libp2p private key`, { cause: err })
  }
  if (privateKey.type !== 'Ed25519') {
    throw new KeyFileError(keyPath, `identity key file ${keyPath} holds a ${privateKey.type} key; cdgossip needs Ed25519`)
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created: false }
}

/** Returns `undefined` when another process created the key file first. */
async function createIdentity (keyPath: string): Promise<Identity | undefined> {
  const dir = path.dirname(keyPath)
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE })
  } catch (err) {
    throw new KeyFileError(keyPath, `cannot create directory ${dir} for the identity key: ${(err as Error).message}`, { cause: err })
  }

  const privateKey = await generateKeyPair('Ed25519')
  const tmpPath = path.join(dir, `.${path.basename(keyPath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const handle = await open(tmpPath, 'wx', FILE_MODE)
    try {
      // the umask may have narrowed the mode; make it exactly 0600
      await handle.chmod(FILE_MODE)
      await handle.writeFile(privateKeyToProtobuf(privateKey))
      await handle.sync()
    } finally {
      await handle.close()
    }
    const placed = await placeExclusively(tmpPath, keyPath)
    if (!placed) return undefined
    await syncDirectory(dir)
  } catch (err) {
    if (err instanceof KeyFileError) throw err
    throw new KeyFileError(keyPath, `cannot write identity key file ${keyPath}: ${(err as Error).message}`, { cause: err })
  } finally {
    await unlink(tmpPath).catch(() => {})
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created: true }
}

/**
 * link() fails when the target exists, which makes "create if absent" atomic; rename() would
 * silently replace a key another process just wrote. Filesystems without hard links fall back
 * to rename after a last existence check.
 */
async function placeExclusively (tmpPath: string, keyPath: string): Promise<boolean> {
  try {
    await link(tmpPath, keyPath)
    return true
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false
    if (!isErrno(err, 'EPERM') && !isErrno(err, 'ENOTSUP') && !isErrno(err, 'EOPNOTSUPP') && !isErrno(err, 'ENOSYS')) throw err
  }
  try {
    await lstat(keyPath)
    return false
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err
  }
  await rename(tmpPath, keyPath)
  await chmod(keyPath, FILE_MODE)
  return true
}

/** Make the new directory entry durable; not every platform can fsync a directory. */
async function syncDirectory (dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // best effort: the key itself is already synced
  }
}

function isErrno (err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code
}
