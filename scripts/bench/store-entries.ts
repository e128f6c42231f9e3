import '../../src/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { encodeCDEventData, toCloudEventAttributes, validateCDEvent } from '../../src/events/index.js'
import { loadOrCreateIdentity, signCloudEvent } from '../../src/signing/index.js'
import { createEventStore } from '../../src/store/index.js'
import type { StoreItem } from '../../src/store/index.js'
import { Workload } from './workload.js'
import { exitWith, integerOption, scriptArgs } from './script-args.js'

/**
 * What the store writes per record of the bench workload, by sublevel: entries and bytes (key and
 * value, before LevelDB's compression). Every byte is written to the log and the memtable and then
 * rewritten by each compaction it goes through, so this is where a record's LevelDB work comes
 * from. The records are validated, signed and appended as the node does, in batches of 100, into
 * a fresh store in a temp dir, which is then read back key by key.
 */

const USAGE = `usage: node dist/scripts/bench/store-entries.js [--records N]
  --records N   records appended (default 2000)`

const BATCH = 100

interface SublevelTally { entries: number, keyBytes: number, valueBytes: number }

/** The sublevel a root key belongs to: its `!name!` prefix (abstract-level's separator). */
function sublevelOf (key: string): string {
  const end = key.startsWith('!') ? key.indexOf('!', 1) : -1
  return end < 0 ? '(root)' : key.slice(1, end)
}

/** One line per sublevel, most bytes per record first, then the totals. */
function formatTallies (tallies: ReadonlyMap<string, SublevelTally>, records: number): string[] {
  const rows = [...tallies].sort(([, a], [, b]) => (b.keyBytes + b.valueBytes) - (a.keyBytes + a.valueBytes))
  const lines = rows.map(([name, t]) =>
    `${name.padEnd(14)} ${(t.entries / records).toFixed(2).padStart(6)} entries  key ${Math.round(t.keyBytes / t.entries).toString().padStart(4)} B  value ${Math.round(t.valueBytes / t.entries).toString().padStart(5)} B  ${Math.round((t.keyBytes + t.valueBytes) / records).toString().padStart(5)} B per record`)
  const entries = rows.reduce((s, [, t]) => s + t.entries, 0)
  const bytes = rows.reduce((s, [, t]) => s + t.keyBytes + t.valueBytes, 0)
  lines.push(`per record: ${(entries / records).toFixed(2)} entries, ${Math.round(bytes / records)} B`)
  return lines
}

async function main (): Promise<void> {
  const values = scriptArgs(USAGE, { records: { type: 'string' } })
  const records = integerOption(values.records, '--records', 2000)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdgossip-store-entries-'))
  try {
    const signer = await loadOrCreateIdentity(path.join(dir, 'key'))
    const store = await createEventStore({}, { path: path.join(dir, 'db') })
    const workload = new Workload({ seed: 3, idPrefix: 'entries' })
    const sequences = new Map<string, number>()
    try {
      for (let done = 0; done < records;) {
        const items: StoreItem[] = []
        for (; items.length < BATCH && done < records; done++) {
          const { cdevent, parsedType } = validateCDEvent(workload.next())
          const eventClass = parsedType.eventClass
          const sequence = (sequences.get(eventClass) ?? 0) + 1
          sequences.set(eventClass, sequence)
          const signed = signCloudEvent({ attributes: toCloudEventAttributes(cdevent), data: encodeCDEventData(cdevent), sequence }, signer)
          items.push({ event: { ...signed, cdevent, eventClass }, trusted: true })
        }
        await store.appendBatch(items)
      }
    } finally {
      await store.stop()
    }
    const db = new Level<string, Uint8Array>(path.join(dir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'view' })
    const tallies = new Map<string, SublevelTally>()
    try {
      for await (const [key, value] of db.iterator()) {
        const name = sublevelOf(key)
        const t = tallies.get(name) ?? { entries: 0, keyBytes: 0, valueBytes: 0 }
        t.entries++
        t.keyBytes += Buffer.byteLength(key)
        t.valueBytes += value.byteLength
        tallies.set(name, t)
      }
    } finally {
      await db.close()
    }
    for (const line of formatTallies(tallies, records)) console.log(line)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

exitWith(main(), USAGE)
