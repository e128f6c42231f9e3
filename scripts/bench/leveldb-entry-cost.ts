import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { UsageError, exitWith, integerOption, scriptArgs } from './script-args.js'

/**
 * LevelDB alone, with the store's shape but none of its code: what one more index entry per
 * record costs, and whether keying records by arrival order instead of by digest would spare
 * compaction work. Writes N records (2 KB values, as the bench workload's) with K index entries
 * each, B records per batch, into a fresh LevelDB with the store's cache and write buffer, and
 * reports the process's CPU per record (every thread: the batch calls on libuv's pool and the
 * compactions, up to the close, which waits for a running one).
 * `--keys digest`: records under their sha256, as the store keys them; `--keys arrival`: under an
 * arrival counter, plus the digest → counter entry that reads by digest would then need;
 * `--keys split`: under an arrival counter in a LevelDB of their own (same settings), the index
 * entries and the digest → counter entry in the other. Alone, keys in arrival order append at
 * the end of the key space, so LevelDB can move their files down the levels instead of rewriting
 * them; in one database every flush also holds index keys from the whole key space.
 * `--sync-records` (with split) writes the records' batches with `sync`: LevelDB makes no promise
 * about the order in which two databases' unsynced writes survive a power loss, so only a synced
 * records batch guarantees that the index database never outlives a record it names.
 */

const USAGE = `usage: node dist/scripts/bench/leveldb-entry-cost.js [options]
  --records N          records written (default 200000)
  --batch B            records per batch (default 10)
  --index-entries K    index entries per record besides the record (default 15, as the store's)
  --keys digest|arrival|split  what records are keyed by, split: by arrival in a LevelDB of their own (default digest)
  --sync-records       with --keys split: write the records' batches with sync (fdatasync before the index batch)`

/** The store's LevelDB settings (src/store/layout.ts). */
const CACHE_SIZE = 32 * 1024 * 1024
const WRITE_BUFFER_SIZE = 16 * 1024 * 1024
const VALUE_BYTES = 2100

async function main (): Promise<void> {
  const values = scriptArgs(USAGE, { records: { type: 'string' }, batch: { type: 'string' }, 'index-entries': { type: 'string' }, keys: { type: 'string' }, 'sync-records': { type: 'boolean' } })
  const records = integerOption(values.records, '--records', 200_000)
  const batch = integerOption(values.batch, '--batch', 10)
  const indexEntries = integerOption(values['index-entries'], '--index-entries', 15, 0)
  const keys = values.keys ?? 'digest'
  if (keys !== 'digest' && keys !== 'arrival' && keys !== 'split') throw new UsageError('--keys is digest, arrival or split')
  const syncRecords = values['sync-records'] === true
  if (syncRecords && keys !== 'split') throw new UsageError('--sync-records needs --keys split')

  // base64 of random bytes: about as compressible as a record's data_base64 and signature
  const bodies = Array.from({ length: 64 }, () => Buffer.from(randomBytes(VALUE_BYTES).toString('base64').slice(0, VALUE_BYTES)))
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdgossip-leveldb-cost-'))
  try {
    const open = async (where: string): Promise<Level<string, Uint8Array>> => {
      const db = new Level<string, Uint8Array>(where, { keyEncoding: 'utf8', valueEncoding: 'view', cacheSize: CACHE_SIZE, writeBufferSize: WRITE_BUFFER_SIZE })
      await db.open()
      return db
    }
    const db = await open(path.join(dir, 'main'))
    const recordsDb = keys === 'split' ? await open(path.join(dir, 'records')) : undefined
    const empty = new Uint8Array(0)
    const cpu0 = process.cpuUsage()
    const started = performance.now()
    for (let first = 0; first < records; first += batch) {
      const chained = db.batch()
      const recordsBatch = recordsDb?.batch()
      for (let n = first; n < Math.min(records, first + batch); n++) {
        const digest = createHash('sha256').update(String(n)).digest('hex')
        const cursor = n.toString(36).padStart(11, '0')
        const kind = String(n % 8)
        if (recordsBatch !== undefined) {
          recordsBatch.put(cursor, bodies[n % bodies.length] as Uint8Array)
          chained.put(`!dig!${digest}`, Buffer.from(cursor))
        } else if (keys === 'arrival') {
          chained.put(`!rec!${cursor}`, bodies[n % bodies.length] as Uint8Array)
          chained.put(`!dig!${digest}`, Buffer.from(cursor))
        } else {
          chained.put(`!rec!${digest}`, bodies[n % bodies.length] as Uint8Array)
        }
        // index keys as the store's: a value part, then the arrival cursor
        for (let i = 0; i < indexEntries; i++) chained.put(`!ix${i}!https://ci.example.org/${kind}/value\x00${cursor}`, empty)
      }
      // the records first: after a crash of the process no index entry names a missing record;
      // after a power loss only a synced records batch ensures that (--sync-records)
      await recordsBatch?.write({ sync: syncRecords })
      await chained.write()
    }
    await Promise.all([db.close(), recordsDb?.close()])
    const used = process.cpuUsage(cpu0)
    const ms = performance.now() - started
    console.log(JSON.stringify({
      records,
      batch,
      indexEntries,
      keys,
      syncRecords,
      cpuUsPerRecord: Number(((used.user + used.system) / records).toFixed(1)),
      recordsPerSecond: Math.round(records / ms * 1000)
    }))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

exitWith(main(), USAGE)
