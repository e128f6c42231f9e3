import { readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import path from 'node:path'

/**
 * Preloaded into a node process (`node --import <this file> bin/cdgossip.js start`) by `soak`:
 * on each SIGUSR2 it runs full garbage collections through the inspector (as DevTools' "collect
 * garbage" does) and then writes `live.<pid>.json` into CDGOSSIP_LIVE_DIR: a reading number, how
 * long the collections held the main thread, and the heap used right after, which is the live
 * heap, with the heap V8 keeps for it, the resident set (on Linux split into anonymous memory and
 * mapped files' pages) and external memory.
 * Without CDGOSSIP_LIVE_DIR it does nothing. Bench tooling only: nothing in src/ loads it.
 *
 * A reading is not free: the collections hold the node's main thread for most of a second here
 * (BENCHMARKS.md, round 17), so publish latency measured across a reading is the probe's own.
 */

/** Two passes: objects the first frees can hold others that only the second sees unreachable. */
const PASSES = 2

/**
 * Linux splits the resident set into anonymous memory (heaps, malloc) and pages of mapped files:
 * LevelDB maps its table files to read them, and pages read so count as resident until the kernel
 * needs them back. Elsewhere there is no split.
 */
function residentSplit (): { rssAnon?: number, rssFile?: number } {
  let status: string
  try {
    status = readFileSync('/proc/self/status', 'utf8')
  } catch {
    return {}
  }
  const kib = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status)
    return match === null ? undefined : Number(match[1]) * 1024
  }
  const rssAnon = kib('RssAnon')
  const rssFile = kib('RssFile')
  return rssAnon === undefined || rssFile === undefined ? {} : { rssAnon, rssFile }
}

const dir = process.env.CDGOSSIP_LIVE_DIR
if (dir !== undefined && dir !== '') {
  const session = new Session()
  session.connect()
  let reading = 0
  // a signal handler cannot be async; the chain keeps readings in order
  let chain: Promise<void> = Promise.resolve()
  process.on('SIGUSR2', () => {
    chain = chain.then(async () => {
      const start = performance.now()
      for (let i = 0; i < PASSES; i++) await session.post('HeapProfiler.collectGarbage')
      const collectMs = performance.now() - start
      const m = process.memoryUsage()
      reading++
      writeFileSync(path.join(dir, `live.${process.pid}.json`), JSON.stringify({ reading, collectMs, heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external, ...residentSplit() }))
    }).catch((err: unknown) => { process.stderr.write(`live-heap-probe: ${String(err)}\n`) })
  })
}
