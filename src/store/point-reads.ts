import { InvalidRequestError } from '../errors.js'
import { levelCall } from './errors.js'
import { sourceIdKey } from './keys.js'
import { checkFilterString } from './query-language.js'
import { decodeStoredRecord } from './record.js'
import type { OpenState, Opened } from './layout.js'
import type { StoredEvent } from './types.js'

/** Point reads of records: by digest, by (source, id). */

/** A record digest: SHA-256, lowercase hex. */
export const DIGEST_RE = /^[0-9a-f]{64}$/

export async function getRecord (opened: Opened, digest: string): Promise<StoredEvent | undefined> {
  checkDigest(digest)
  const st = opened()
  const [stored] = await getMany(st, [digest])
  return stored
}

export async function hasRecord (opened: Opened, digest: string): Promise<boolean> {
  checkDigest(digest)
  const st = opened()
  return levelCall('read', async () => st.records.has(digest))
}

export async function getBySourceAndId (opened: Opened, source: string, id: string): Promise<StoredEvent | undefined> {
  checkFilterString(source, 'source')
  checkFilterString(id, 'id')
  const st = opened()
  const digest = await levelCall('read', async () => st.bySourceId.get(sourceIdKey(source, id)))
  if (digest === undefined) return undefined
  const [stored] = await getMany(st, [digest])
  return stored
}

/** The records of `digests`, in order; undefined where none is held. One LevelDB read. */
export async function getMany (st: OpenState, digests: string[]): Promise<Array<StoredEvent | undefined>> {
  if (digests.length === 0) return []
  const values = await levelCall('read', async () => st.records.getMany(digests))
  return values.map((value, i) => value === undefined ? undefined : decodeStoredRecord(digests[i] as string, value))
}

function checkDigest (digest: unknown): asserts digest is string {
  if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) {
    throw new InvalidRequestError('digest must be 64 lowercase hex characters')
  }
}
