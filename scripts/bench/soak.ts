import '../../src/polyfill.js'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createContext, DEFAULT_OPTIONS, removeContext } from './context.js'
import { GC_FLUSH_MS, parseGcPauses } from './gc-pauses.js'
import { latencyWindows } from './latency-windows.js'
import type { NodeActivity, TimedSend } from './latency-windows.js'
import { parseLevelDbLog } from './leveldb-log.js'
import { withWarmFederation } from './federation-bench.js'
import { openLoop } from './http-load.js'
import { bytesPerThousandEvents, growthSlope, parseLiveReading } from './memory-breakdown.js'
import type { LiveMemory } from './memory-breakdown.js'
import type { NodeProcess } from './node-process.js'
import { diskUsage } from './query-bench.js'
import { cleanupAll } from './resources.js'
import { exitWith, integerOption, scriptArgs } from './script-args.js'
import { round, waitUntil } from './stats.js'
import type { Span } from './stats.js'
import { dataDirPaths } from '../../src/data-dir.js'

/**
 * A soak: whether a node keeps memory it should not over a long steady load. A, B and C as in the
 * federation part; A takes single publishes at a fixed rate for many minutes, and B and C store
 * them. A node's resident set under load is mostly garbage (BENCHMARKS.md, round 4), so what it
 * keeps is read from its live heap: each node runs live-heap-probe.ts, which on a signal collects
 * all garbage and writes the heap used right after. Read before and after the load (each after
 * the nodes sat idle for a while), the difference per event is what a node running for weeks
 * would accumulate. The same reading every --sample seconds under load gives its slope.
 *
 * A's publish latency is reported per window of the load, beside what could stall a publish in
 * it: the readings themselves (full collections on every node at once), each store's flushes,
 * compactions and waiting writes, from LevelDB's own LOG, and each node's collection pauses, from
 * gc-pause-probe.ts; and how many slow publishes were in flight during A's long pauses or its
 * compactions. `--sample 0` takes no reading under load, so its windows show a node's latency
 * with nothing of the soak's own in the way.
 */

const USAGE = `usage: node dist/scripts/bench/soak.js [options]
  --minutes M     minutes of load (default 20)
  --rate R        single events per second published at A, open loop (default 200)
  --sample S      seconds between live-heap readings under load (default 60; 0: none under load).
                  A reading holds every node for most of a second: measure latency with 0
  --window S      seconds per window of A's publish latency (default 60)
  --idle S        seconds the nodes sit idle before each live-heap reading (default 20)
environment: CDGOSSIP_BENCH_BIN=<build>/bin/cdgossip.js runs the nodes from another build`

const LIVE_PROBE = new URL('./live-heap-probe.js', import.meta.url).href
const GC_PROBE = new URL('./gc-pause-probe.js', import.meta.url).href
/** A publish slower than this counts as slow: the bound on the 500/s federation p99 */
const SLOW_MS = 50

/** Epoch milliseconds, to the fraction: the clock LevelDB's LOG lines are read into. */
function now (): number {
  return performance.timeOrigin + performance.now()
}

/** Signals every node's probe and waits for the reading it writes; `spans` gets when it ran. */
async function readLiveMemory (nodes: readonly NodeProcess[], dir: string, reading: number, spans: Span[] = []): Promise<LiveMemory[]> {
  const start = now()
  for (const n of nodes) if (n.pid !== undefined) process.kill(n.pid, 'SIGUSR2')
  const readings = await Promise.all(nodes.map(async n => {
    const file = path.join(dir, `live.${n.pid ?? 0}.json`)
    let live: LiveMemory | undefined
    await waitUntil(async () => {
      live = parseLiveReading(await readFile(file, 'utf8').catch(() => undefined))
      return live !== undefined && live.reading >= reading
    }, { timeoutMs: 60_000, intervalMs: 100, message: `node ${n.name}'s live-heap reading ${reading}` })
    return live as LiveMemory
  }))
  spans.push({ start, end: now() })
  return readings
}

/**
 * What a node did that can hold up a publish: its store's background work, from LevelDB's LOG (and
 * LOG.old, which precedes it), and its main thread's collections, from gc-pause-probe.ts.
 */
async function nodeActivity (node: NodeProcess, probeDir: string): Promise<NodeActivity> {
  const dir = dataDirPaths(node.dataDir).store
  const logs = await Promise.all(['LOG.old', 'LOG'].map(async name => await readFile(path.join(dir, name), 'utf8').catch(() => '')))
  const gc = await readFile(path.join(probeDir, `gc.${node.pid ?? 0}.jsonl`), 'utf8').catch(() => '')
  return { store: parseLevelDbLog(logs.join('\n')), gc: parseGcPauses(gc) }
}

/** A node's store on disk: LevelDB keeps every table file open (up to 1,000), with its index in memory. */
async function storeOnDisk (node: NodeProcess): Promise<{ storeMiB: number, tableFiles: number }> {
  const dir = dataDirPaths(node.dataDir).store
  const [usage, names] = await Promise.all([diskUsage(dir), readdir(dir)])
  return { storeMiB: round(usage.apparent / 1024 / 1024, 1), tableFiles: names.filter(n => n.endsWith('.ldb')).length }
}

interface LiveSample {
  minute: number
  /** events held by both B and C when the readings were asked for */
  delivered: number
  byNode: Record<string, LiveMemory & { storeMiB: number, tableFiles: number }>
}

async function main (): Promise<void> {
  const values = scriptArgs(USAGE, { minutes: { type: 'string' }, rate: { type: 'string' }, sample: { type: 'string' }, window: { type: 'string' }, idle: { type: 'string' } })
  const minutes = integerOption(values.minutes, '--minutes', 20)
  const rate = integerOption(values.rate, '--rate', 200)
  const sampleSeconds = integerOption(values.sample, '--sample', 60, 0)
  const windowSeconds = integerOption(values.window, '--window', 60)
  const idleSeconds = integerOption(values.idle, '--idle', 20, 0)
  const ctx = await createContext('/tmp', { ...DEFAULT_OPTIONS, noBaseline: true }, line => { console.error(line) })
  const liveDir = await mkdtemp(path.join(os.tmpdir(), 'cdgossip-soak-live-'))
  // the node processes inherit this environment: the probes write there
  process.env.CDGOSSIP_LIVE_DIR = liveDir
  process.env.CDGOSSIP_GC_DIR = liveDir
  try {
    await withWarmFederation(ctx, 'soak', { seed: 31, label: 'soak', nodeArgs: () => ['--import', LIVE_PROBE, '--import', GC_PROBE] }, async ({ nodes, target, payloads, tracker }) => {
      const all = [nodes.a, nodes.b, nodes.c]
      await sleep(idleSeconds * 1000)
      const before = await readLiveMemory(all, liveDir, 1)
      console.error(`live before the load: ${JSON.stringify(before)}`)

      const total = rate * minutes * 60
      console.error(`${total} events at ${rate}/s for ${minutes} min`)
      const startedAt = performance.now()
      const loadStart = now()
      const sends: TimedSend[] = []
      const readingSpans: Span[] = []
      const load = openLoop({
        total,
        ratePerSec: rate,
        maxInFlight: 256,
        maxMs: minutes * 60_000 + 60_000,
        send: async () => {
          const sentAt = performance.now()
          const key = await target.publish(payloads.next())
          const acceptedAt = performance.now()
          tracker.accepted(key, sentAt, acceptedAt)
          sends.push({ at: performance.timeOrigin + sentAt, ms: acceptedAt - sentAt })
        }
      })
      const samples: LiveSample[] = []
      let reading = 1
      let done = false
      const settled = load.then(() => { done = true }, () => { done = true })
      while (!done && sampleSeconds > 0) {
        await Promise.race([sleep(sampleSeconds * 1000), settled])
        if (done) break
        const delivered = tracker.deliveredEverywhere()
        const live = await readLiveMemory(all, liveDir, ++reading, readingSpans)
        const disk = await Promise.all(all.map(storeOnDisk))
        const sample = { minute: round((performance.now() - startedAt) / 60_000, 2), delivered, byNode: Object.fromEntries(all.map((n, i) => [n.name, { ...live[i] as LiveMemory, ...disk[i] as { storeMiB: number, tableFiles: number } }])) }
        samples.push(sample)
        console.error(JSON.stringify(sample))
      }
      const loop = await load
      const drained = await tracker.drain(120_000)
      const delivered = tracker.deliveredEverywhere()
      const peaks = await Promise.all(all.map(async n => (await n.memory())?.peakRssMiB))
      // idle before the reading, and long enough for the GC probe's last append
      await sleep(Math.max(idleSeconds * 1000, 2 * GC_FLUSH_MS))
      const activity = await Promise.all(all.map(async n => await nodeActivity(n, liveDir)))
      const latency = latencyWindows(sends, { start: loadStart, windowMs: windowSeconds * 1000, readings: readingSpans, nodes: Object.fromEntries(all.map((n, i) => [n.name, activity[i] as NodeActivity])), publisher: nodes.a.name, slowMs: SLOW_MS })
      const after = await readLiveMemory(all, liveDir, ++reading)

      console.log(JSON.stringify({
        minutes,
        rate,
        accepted: loop.completed,
        failed: loop.failed,
        skipped: loop.skipped,
        ...(loop.firstError === undefined ? {} : { firstError: loop.firstError }),
        deliveredEverywhere: delivered,
        drained,
        byNode: Object.fromEntries(all.map((n, i) => {
          const b = before[i] as LiveMemory
          const a = after[i] as LiveMemory
          return [n.name, {
            liveBefore: b,
            liveAfter: a,
            liveHeapGrowthBytesPer1000Events: delivered === 0 ? undefined : bytesPerThousandEvents(b, a, delivered),
            // the second half of the load: past the first minutes' compiling and filling of bounded caches
            secondHalfSlopeBytesPer1000Events: growthSlope(samples.slice(Math.floor(samples.length / 2)).map(x => ({ events: x.delivered, liveHeapMiB: (x.byNode[n.name] as LiveMemory).liveHeapMiB }))),
            peakRssMiB: peaks[i]
          }]
        })),
        latency,
        samples
      }))
    })
  } finally {
    await removeContext(ctx)
    await rm(liveDir, { recursive: true, force: true })
  }
}

exitWith(main(), USAGE, async () => { await cleanupAll(line => { console.error(line) }) })
