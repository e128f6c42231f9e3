import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { chmod, link, lstat, mkdir, open, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { KeyFileError } from './errors.js'

/**
 * Files holding private keys (the node identity, a community root key): readable and writable
 * by their owner only, written atomically so a crash never leaves half a key, and refused on
 * read when group or others could get at them, as ssh refuses such keys.
 */

const FILE_MODE = 0o600
const DIR_MODE = 0o700
/** group and others: none of these bits may be set on a key file */
const GROUP_OTHER_BITS = 0o077

/** O_NONBLOCK: opening a FIFO planted at the key path must not hang the process. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)

export interface SecretFileOptions {
  /** what the file is, for messages: `identity key file`, `community root key file` */
  what: string
  /** a bigger file is not ours; refused before reading it */
  maxBytes: number
}

/**
 * The bytes of the secret file at `filePath`. Throws KeyFileError (CDG_CONFIG) when it cannot be
 * opened (the cause keeps the errno), is not a regular file, is accessible by group or others
 * (with the chmod that fixes it), or is over `maxBytes`.
 */
export async function readSecretFile (filePath: string, options: SecretFileOptions): Promise<Uint8Array> {
  const { what, maxBytes } = options
  // open first, then check the open file: nothing can be swapped in between check and read
  let handle
  try {
    handle = await open(filePath, OPEN_FLAGS)
  } catch (err) {
    throw new KeyFileError(filePath, `cannot open ${what} ${filePath}: ${(err as Error).message}`, { cause: err })
  }
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) throw new KeyFileError(filePath, `${what} ${filePath} is not a regular file`)
    if (process.platform !== 'win32' && (stat.mode & GROUP_OTHER_BITS) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0')
      throw new KeyFileError(filePath, `${what} ${filePath} is accessible by group or others (mode ${mode}); run: chmod 600 ${filePath}`)
    }
    if (stat.size > maxBytes) throw new KeyFileError(filePath, `${what} ${filePath} is over ${maxBytes} bytes: not a cdgossip key file`)
    return await handle.readFile()
  } finally {
    await handle.close()
  }
}

/**
 * Write `bytes` to a new 0600 file at `filePath` unless one exists there; `false` when it does
 * (nothing written). A missing parent directory is created 0700. The bytes go to a synced temp
 * file in the same directory that is then linked into place, so two concurrent writers end up
 * with one complete file, the first one's.
 */
export async function writeNewSecretFile (filePath: string, bytes: Uint8Array, what: string): Promise<boolean> {
  const dir = path.dirname(filePath)
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE })
  } catch (err) {
    throw new KeyFileError(filePath, `cannot create directory ${dir} for the ${what}: ${(err as Error).message}`, { cause: err })
  }
  return await withTempFile(filePath, bytes, what, async tmpPath => await placeExclusively(tmpPath, filePath))
}

/** Replace the secret file at `filePath` with `bytes` in one step (temp file, then rename). */
export async function replaceSecretFile (filePath: string, bytes: Uint8Array, what: string): Promise<void> {
  await withTempFile(filePath, bytes, what, async tmpPath => {
    await rename(tmpPath, filePath)
    return true
  })
}

async function withTempFile (filePath: string, bytes: Uint8Array, what: string, place: (tmpPath: string) => Promise<boolean>): Promise<boolean> {
  const dir = path.dirname(filePath)
  const tmpPath = path.join(dir, `.${path.basename(filePath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const handle = await open(tmpPath, 'wx', FILE_MODE)
    try {
      // the umask may have narrowed the mode; make it exactly 0600
      await handle.chmod(FILE_MODE)
      await handle.writeFile(bytes)
      await handle.sync()
    } finally {
      await handle.close()
    }
    const placed = await place(tmpPath)
    if (placed) await syncDirectory(dir)
    return placed
  } catch (err) {
    if (err instanceof KeyFileError) throw err
    throw new KeyFileError(filePath, `cannot write ${what} ${filePath}: ${(err as Error).message}`, { cause: err })
  } finally {
    await unlink(tmpPath).catch(() => {})
  }
}

/**
 * link() fails when the target exists, which makes "create if absent" atomic; rename() would
 * silently replace a key another process just wrote. Filesystems without hard links fall back
 * to rename after a last existence check.
 */
async function placeExclusively (tmpPath: string, filePath: string): Promise<boolean> {
  try {
    await link(tmpPath, filePath)
    return true
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false
    if (!isErrno(err, 'EPERM') && !isErrno(err, 'ENOTSUP') && !isErrno(err, 'EOPNOTSUPP') && !isErrno(err, 'ENOSYS')) throw err
  }
  try {
    await lstat(filePath)
    return false
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err
  }
  await rename(tmpPath, filePath)
  await chmod(filePath, FILE_MODE)
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

export function isErrno (err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code
}
