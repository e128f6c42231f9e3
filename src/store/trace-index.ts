import { InvalidRequestError } from '../errors.js'
import { traceFactsOf } from '../events/trace-references.js'
import { asStoreError, CorruptRecordError, levelCall } from './errors.js'
import { MAX_INDEXED_VALUE_LENGTH, cursorKey, prefixEnd, valuePrefix } from './keys.js'
import { SCAN_CHUNK, noop } from './layout.js'
import { decodeFacts, decodeStoredRecord } from './record.js'
import type { OpenState, Opened, Sub } from './layout.js'
import type { Reference, Referrer } from '../events/trace-references.js'
import type { SignedEvent } from '../events/types.js'
import type { Logger } from 'pino'

/**
 * The trace indexes: `trace-id` holds (identity, cursor) for each identity of a record (its
 * context id, the entity its subject is; events/trace-references.ts), `trace-ref` holds (key,
 * cursor) → how, for each key a record references (a linked context id, an entity named by a
 * field). "Who is artifact X", "who references artifact X" and "who links to context id C" are
 * then one prefix read each, plus one read of the arrival entries for the digests; what a record
 * itself references is read from the record. Keys end in the cursor key like every other index
 * (keys.ts): 11 characters instead of a 64-character digest in every entry. Written in the batch
 * that stores the record; a record adds two identity entries and one per key it references to the
 * dozen entries the other indexes write.
 */

/** Most digests one lookup returns: a trace is bounded far below this (see trace/graph.ts). */
export const MAX_TRACE_LOOKUP = 1000
/** Records decoded at once while indexing an older store. */
const MIGRATION_CHUNK = 500

/** The index entries of one record, for the write path's batch. */
export function traceEntries (event: SignedEvent, ck: string): Array<{ sublevel: 'id' | 'ref', key: string, value: string }> {
  const facts = traceFactsOf(event.cdevent, event.eventClass)
  const out: Array<{ sublevel: 'id' | 'ref', key: string, value: string }> = []
  for (const identity of facts.identities) out.push({ sublevel: 'id', key: valuePrefix(identity) + ck, value: '' })
  const byTarget = new Map<string, Array<Omit<Reference, 'target'>>>()
  for (const { target, ...rest } of facts.references) {
    const list = byTarget.get(target) ?? []
    list.push(rest)
    byTarget.set(target, list)
  }
  for (const [target, refs] of byTarget) out.push({ sublevel: 'ref', key: valuePrefix(target) + ck, value: JSON.stringify(refs) })
  return out
}

function checkKey (key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '' || key.length > MAX_INDEXED_VALUE_LENGTH * 4) {
    throw new InvalidRequestError('trace keys are non-empty strings of bounded length')
  }
}

async function scan (sub: Sub<string>, key: string, limit: number): Promise<Array<[string, string]>> {
  const prefix = valuePrefix(key)
  const out: Array<[string, string]> = []
  const it = sub.iterator({ gte: prefix, lt: prefixEnd(prefix), limit: Math.min(limit, MAX_TRACE_LOOKUP) })
  try {
    for (;;) {
      const entries = await it.nextv(SCAN_CHUNK)
      if (entries.length === 0) break
      for (const [k, v] of entries) out.push([k.slice(prefix.length), v])
    }
  } catch (err) {
    throw asStoreError('read', err)
  } finally {
    await it.close().catch(noop)
  }
  return out
}

/** Digests of the records that are `key` (an identity), up to `limit`. */
export async function traceHolders (opened: Opened, key: string, limit: number): Promise<string[]> {
  checkKey(key)
  const st = opened()
  const entries = await scan(st.traceIds, key, limit)
  return await digestsOf(st, entries.map(([ck]) => ck))
}

/** The records that reference `key`, with how, up to `limit`. */
export async function traceReferrers (opened: Opened, key: string, limit: number): Promise<Referrer[]> {
  checkKey(key)
  const st = opened()
  const entries = await scan(st.traceRefs, key, limit)
  const digests = await digestsOf(st, entries.map(([ck]) => ck))
  return entries.map(([ck, value], i) => {
    let refs: unknown
    try {
      refs = JSON.parse(value)
    } catch {
      throw new CorruptRecordError(`trace-ref/${ck}`, 'not JSON')
    }
    if (!Array.isArray(refs)) throw new CorruptRecordError(`trace-ref/${ck}`, 'wrong shape')
    return { digest: digests[i] as string, refs: refs as Referrer['refs'] }
  })
}

/** Digests of the held records of one chain, in arrival order, up to `limit`; from the chain index. */
export async function chainDigests (opened: Opened, chainId: string, limit: number): Promise<string[]> {
  checkKey(chainId)
  const st = opened()
  const prefix = valuePrefix(chainId)
  const cursors: string[] = []
  const it = st.byChain.keys({ gte: prefix, lt: prefixEnd(prefix), limit: Math.min(limit, MAX_TRACE_LOOKUP) })
  try {
    for (;;) {
      const keys = await it.nextv(SCAN_CHUNK)
      if (keys.length === 0) break
      for (const k of keys) cursors.push(k.slice(prefix.length))
    }
  } catch (err) {
    throw asStoreError('read', err)
  } finally {
    await it.close().catch(noop)
  }
  return await digestsOf(st, cursors)
}

/** The digests of records by cursor key, from their arrival entries: one LevelDB read. */
async function digestsOf (st: OpenState, cursors: string[]): Promise<string[]> {
  if (cursors.length === 0) return []
  const facts = await levelCall('read', async () => st.arrival.getMany(cursors))
  return facts.map((value, i) => {
    if (value === undefined) throw new CorruptRecordError(cursors[i] as string, 'index entry without arrival entry')
    return decodeFacts(cursors[i] as string, value).digest
  })
}

/**
 * Builds the trace indexes of a store written before they existed, from its records. Idempotent:
 * interrupted, it runs again at the next open, as the format marker moves on only after it.
 */
export async function addTraceIndex (st: OpenState, log: Logger | undefined): Promise<void> {
  log?.info('event store: building the trace indexes')
  let records = 0
  const it = st.records.iterator()
  try {
    for (;;) {
      const entries = await it.nextv(MIGRATION_CHUNK)
      if (entries.length === 0) break
      const ops = entries.flatMap(([digest, value]) => {
        const stored = decodeStoredRecord(digest, value)
        return traceEntries(stored.event, cursorKey(parseInt(stored.cursor, 36)))
      }).map(e =>
        ({ type: 'put' as const, sublevel: e.sublevel === 'id' ? st.traceIds : st.traceRefs, key: e.key, value: e.value }))
      await st.db.batch(ops)
      records += entries.length
    }
  } finally {
    await it.close().catch(noop)
  }
  log?.info({ records }, 'event store: trace indexes built')
}
