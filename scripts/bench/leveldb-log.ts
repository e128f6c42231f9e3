import type { Span } from './stats.js'

/**
 * What LevelDB's own LOG file (in the store's directory) says its one background thread did:
 * memtable flushes ("Level-0 table #N: started" … "Level-0 table #N: <bytes> bytes OK"),
 * compactions ("Compacting …" … "compacted to: …"), and writes that had to wait for it
 * ("Current memtable full; waiting..." and "Too many L0 files; waiting..."). The soak lines these
 * up with the publish latency it measured, to tell a write stall from anything else.
 */

export interface LevelDbActivity {
  flushes: Span[]
  compactions: Span[]
  /** when a write found the memtable full with the previous one still being flushed */
  memtableWaits: number[]
  /** when a write found too many level-0 files and waited for a compaction */
  level0Waits: number[]
}

// LevelDB stamps each line with the local time to the microsecond, then the thread id
const LINE = /^(\d{4})\/(\d\d)\/(\d\d)-(\d\d):(\d\d):(\d\d)\.(\d{6}) \S+ (.*)$/

/** Lines of a LevelDB LOG (and LOG.old, concatenated in order); lines it does not know are skipped. */
export function parseLevelDbLog (text: string): LevelDbActivity {
  const activity: LevelDbActivity = { flushes: [], compactions: [], memtableWaits: [], level0Waits: [] }
  let flushStart: number | undefined
  let compactionStart: number | undefined
  for (const line of text.split('\n')) {
    const m = LINE.exec(line)
    if (m === null) continue
    const [, y, mo, d, h, mi, s, micros, message = ''] = m
    const at = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime() + Number(micros) / 1000
    if (/^Level-0 table #\d+: started$/.test(message)) {
      flushStart = at
    } else if (/^Level-0 table #\d+: \d+ bytes /.test(message) && flushStart !== undefined) {
      activity.flushes.push({ start: flushStart, end: at })
      flushStart = undefined
    } else if (message.startsWith('Compacting ')) {
      compactionStart = at
    } else if (message.startsWith('compacted to: ') && compactionStart !== undefined) {
      activity.compactions.push({ start: compactionStart, end: at })
      compactionStart = undefined
    } else if (message === 'Current memtable full; waiting...') {
      activity.memtableWaits.push(at)
    } else if (message === 'Too many L0 files; waiting...') {
      activity.level0Waits.push(at)
    }
  }
  return activity
}
