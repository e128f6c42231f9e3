import '../../src/polyfill.js'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createContext, DEFAULT_OPTIONS, removeContext } from './context.js'
import { DeliveryTracker } from './delivery.js'
import { startFederation, warmup, watchSubscribers } from './federation-bench.js'
import { openLoop } from './http-load.js'
import { bytesPerThousandEvents, growthSlope, parseLiveReading } from './memory-breakdown.js'
import type { LiveMemory } from './memory-breakdown.js'
import type { NodeProcess } from './node-process.js'
import { Payloads, runPrefix } from './payloads.js'
import { diskUsage } from './query-bench.js'
import { CdgossipTarget } from './publish-targets.js'
import { cleanupAll } from './resources.js'
import { exitWith, integerOption, scriptArgs } from './script-args.js'
import { round, summarize, waitUntil } from './stats.js'
import { dataDirPaths } from '../../src/data-dir.js'

/**
 * A soak: whether a node keeps memory it should not over a long steady load. A, B and C as in the
 * federation part; A takes single publishes at a fixed rate for many minutes, and B and C store
 * them. A node's resident set under load is mostly garbage (BENCHMARKS.md, round 4), so what it
 * keeps is read from its live heap: each node runs live-heap-probe.ts, which on a signal collects
 * all garbage and writes the heap used right after. Read before and after the load (each after
 * the nodes sat idle for a while), the difference per event is what a node running for weeks
 * would accumulate. The same reading every --sample seconds under load gives its slope, and A's
 * publish latency over each such stretch shows a stall.
 */

const USAGE = `usage: node dist/scripts/bench/soak.js [options]
  --minutes M     minutes of load (default 20)
  --rate R        single events per second published at A, open loop (default 200)
  --sample S      seconds between live-heap readings under load (default 60)
  --idle S        seconds the nodes sit idle before each live-heap reading (default 20)
environment: CDGOSSIP_BENCH_BIN=<build>/bin/cdgossip.js runs the nodes from another build`

const PROBE = new URL('./live-heap-probe.js', import.meta.url).href

/** Signals every node's probe and waits for the reading it writes. */
async function readLiveMemory (nodes: readonly NodeProcess[], dir: string, reading: number): Promise<LiveMemory[]> {
  for (const n of nodes) if (n.pid !== undefined) process.kill(n.pid, 'SIGUSR2')
  return await Promise.all(nodes.map(async n => {
    const file = path.join(dir, `live.${n.pid ?? 0}.json`)
    let live: LiveMemory | undefined
    await waitUntil(async () => {
      live = parseLiveReading(await readFile(file, 'utf8').catch(() => undefined))
      return live !== undefined && live.reading >= reading
    }, { timeoutMs: 60_000, intervalMs: 100, message: `node ${n.name}'s live-heap reading ${reading}` })
    return live as LiveMemory
  }))
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
  /** A's publish latency (send to HTTP 202) since the previous sample, ms: a stall shows in its max */
  acceptMs: { p50: number, p99: number, max: number }
  byNode: Record<string, LiveMemory & { storeMiB: number, tableFiles: number }>
}

async function main (): Promise<void> {
  const values = scriptArgs(USAGE, { minutes: { type: 'string' }, rate: { type: 'string' }, sample: { type: 'string' }, idle: { type: 'string' } })
  const minutes = integerOption(values.minutes, '--minutes', 20)
  const rate = integerOption(values.rate, '--rate', 200)
  const sampleSeconds = integerOption(values.sample, '--sample', 60)
  const idleSeconds = integerOption(values.idle, '--idle', 20, 0)
  const ctx = await createContext('/tmp', { ...DEFAULT_OPTIONS, noBaseline: true }, line => { console.error(line) })
  const liveDir = await mkdtemp(path.join(os.tmpdir(), 'cdgossip-soak-live-'))
  // the node processes inherit this environment: the probe writes its readings there
  process.env.CDGOSSIP_LIVE_DIR = liveDir
  const nodes = await startFederation(ctx, 'soak', () => ['--import', PROBE])
  const all = [nodes.a, nodes.b, nodes.c]
  let tracker = new DeliveryTracker(['B', 'C'])
  const watchers = await watchSubscribers(nodes, () => tracker)
  try {
    const target = new CdgossipTarget(nodes.a.api())
    const payloads = new Payloads({ seed: 31, idPrefix: runPrefix('soak') })
    await warmup(async p => await target.publish(p), payloads, tracker)
    tracker = new DeliveryTracker(['B', 'C'])
    await sleep(idleSeconds * 1000)
    const before = await readLiveMemory(all, liveDir, 1)
    console.error(`live before the load: ${JSON.stringify(before)}`)

    const total = rate * minutes * 60
    console.error(`${total} events at ${rate}/s for ${minutes} min`)
    const startedAt = performance.now()
    let acceptMs: number[] = []
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
        acceptMs.push(acceptedAt - sentAt)
      }
    })
    const samples: LiveSample[] = []
    let reading = 1
    let done = false
    const settled = load.then(() => { done = true }, () => { done = true })
    while (!done) {
      await Promise.race([sleep(sampleSeconds * 1000), settled])
      if (done) break
      const delivered = tracker.deliveredEverywhere()
      const { p50, p99, max } = summarize(acceptMs)
      acceptMs = []
      const live = await readLiveMemory(all, liveDir, ++reading)
      const disk = await Promise.all(all.map(storeOnDisk))
      const sample = { minute: round((performance.now() - startedAt) / 60_000, 2), delivered, acceptMs: { p50, p99, max }, byNode: Object.fromEntries(all.map((n, i) => [n.name, { ...live[i] as LiveMemory, ...disk[i] as { storeMiB: number, tableFiles: number } }])) }
      samples.push(sample)
      console.error(JSON.stringify(sample))
    }
    const loop = await load
    const drained = await tracker.drain(120_000)
    const delivered = tracker.deliveredEverywhere()
    const peaks = await Promise.all(all.map(async n => (await n.memory())?.peakRssMiB))
    await sleep(idleSeconds * 1000)
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
      samples
    }))
  } finally {
    for (const w of watchers) w.close()
    await Promise.all([nodes.c, nodes.b, nodes.a].map(async n => { await n.stop() }))
    await removeContext(ctx)
    await rm(liveDir, { recursive: true, force: true })
  }
}

exitWith(main(), USAGE, async () => { await cleanupAll(line => { console.error(line) }) })
