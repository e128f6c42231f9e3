import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { CdgossipError } from '../errors.js'
import type { CredentialRef } from '../subscriptions/types.js'

/**
 * Reading a trigger sink's token, at each attempt: a rotated file is picked up without touching the
 * subscription, and the token is never kept in the subscription, its state or its logs. Messages
 * name the file or variable, never the content.
 */

/** Tokens are short (GitHub 40-255 characters, GitLab trigger tokens ~50); more is a wrong file. */
export const MAX_CREDENTIAL_BYTES = 4096
/** Group and other permission bits: a token file anyone else can read is refused, like the node's key and API token. */
const GROUP_OTHER_BITS = 0o077
/** Printable ASCII: the token goes into an HTTP header or a form field; a CR/LF would inject headers. */
const PRINTABLE = /^[\x21-\x7e]+$/

export interface CredentialErrorDetails {
  /** `tokenFile /path` or `tokenEnv NAME` */
  credential: string
}

/** A trigger sink's token cannot be used; delivery shows the reason and waits instead of spending attempts. */
export class CredentialError extends CdgossipError<CredentialErrorDetails> {
  constructor (credential: string, reason: string, options: { cause?: unknown } = {}) {
    super('CDG_CONFIG', `${credential} ${reason}`, { details: { credential }, cause: options.cause })
    this.name = 'CredentialError'
  }
}

function describeRef (ref: CredentialRef): string {
  return ref.tokenFile !== undefined ? `sink.tokenFile ${ref.tokenFile}` : `sink.tokenEnv ${ref.tokenEnv ?? '(none)'}`
}

function checkToken (credential: string, raw: string): string {
  // one trailing newline (echo > file) or surrounding blanks are not part of a token
  const token = raw.trim()
  if (token === '') throw new CredentialError(credential, 'is empty')
  if (!PRINTABLE.test(token)) throw new CredentialError(credential, 'holds characters a token cannot have (only printable ASCII without spaces)')
  return token
}

function describeFsError (err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  switch (code) {
    case 'ENOENT': return 'does not exist'
    case 'EACCES':
    case 'EPERM': return 'cannot be read by the node (permission denied)'
    case 'ELOOP': return 'is a symbolic link loop'
    case 'EISDIR': return 'is a directory'
    default: return `cannot be read (${typeof code === 'string' ? code : 'error'})`
  }
}

async function readTokenFile (path: string, credential: string): Promise<string> {
  let handle
  try {
    // O_NONBLOCK: a FIFO at the path must not hang the delivery loop
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    throw new CredentialError(credential, describeFsError(err), { cause: err })
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw new CredentialError(credential, 'is not a regular file')
    if (process.platform !== 'win32' && (info.mode & GROUP_OTHER_BITS) !== 0) {
      throw new CredentialError(credential, `is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`)
    }
    if (info.size > MAX_CREDENTIAL_BYTES) throw new CredentialError(credential, `is larger than ${MAX_CREDENTIAL_BYTES} bytes; it should hold only the token`)
    const buffer = Buffer.alloc(MAX_CREDENTIAL_BYTES + 1)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
    if (bytesRead > MAX_CREDENTIAL_BYTES) throw new CredentialError(credential, `is larger than ${MAX_CREDENTIAL_BYTES} bytes; it should hold only the token`)
    return checkToken(credential, buffer.subarray(0, bytesRead).toString('utf8'))
  } catch (err) {
    if (err instanceof CredentialError) throw err
    throw new CredentialError(credential, describeFsError(err), { cause: err })
  } finally {
    await handle.close().catch(() => {})
  }
}

/**
 * The token a credential reference points at. Throws CredentialError (missing, unreadable,
 * group/world-readable, empty, oversized or not a token) with a reason that never holds the secret.
 */
export async function readCredential (ref: CredentialRef, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const credential = describeRef(ref)
  if (ref.tokenFile !== undefined) return await readTokenFile(ref.tokenFile, credential)
  if (ref.tokenEnv === undefined) throw new CredentialError(credential, 'is not set: the sink names no credential')
  const value = env[ref.tokenEnv]
  if (value === undefined) throw new CredentialError(credential, 'is not set in the node\'s environment')
  if (Buffer.byteLength(value) > MAX_CREDENTIAL_BYTES) throw new CredentialError(credential, `is longer than ${MAX_CREDENTIAL_BYTES} bytes; it should hold only the token`)
  return checkToken(credential, value)
}
