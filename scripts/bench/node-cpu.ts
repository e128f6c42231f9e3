import '../../src/polyfill.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { createContext, DEFAULT_OPTIONS, removeContext } from './context.js'
import type { DeliveryTracker } from './delivery.js'
import { withWarmFederation } from './federation-bench.js'
import { closedLoop, openLoop } from './http-load.js'
import type { NodeProcess } from './node-process.js'
import type { Payloads } from './payloads.js'
import { cleanupAll } from './resources.js'
import { UsageError, exitWith, integerOption, scriptArgs } from './script-args.js'
import { THREAD_KINDS, contextSwitchesOf, cpuOf, noThreadCpu, threadCpuDelta, threadCpuOf, timelineIntervals } from './proc-cpu.js'
import type { ThreadCpu, ThreadKind, TimelineReading } from './proc-cpu.js'
import type { CdgossipTarget } from './publish-targets.js'
import { ALLOC_SAMPLER_ARGS, allocationDir, allocationReport, toggleSampling } from './node-alloc.js'

/**
 * CPU per delivered event for a fixed amount of federation work: A, B and C as in the federation
 * part, N single-event publishes at A with 32 in flight, until B and C hold them all; the CPU the
 * three node processes used for it comes from /proc/<pid>/stat (user + system, all threads).
 * On a shared, loaded machine wall-clock rates swing several-fold from run to run; CPU for a
 * fixed piece of work moves far less, which is what A/B runs of two builds need:
 * `CDGOSSIP_BENCH_BIN=<build>/bin/cdgossip.js node dist/scripts/bench/node-cpu.js [--events N] [--batch B]`
 * (`--batch B`: publish requests of B events, 4 in flight, instead of single events with 32;
 * `--rate R`: single events sent open loop at R per second instead, the federation part's
 * fixed-rate phase, where nothing queues long enough to share a write or a message;
 * `--alloc`: also the V8 heap bytes each node allocated per delivered event over the same work,
 * with the `--top K` functions allocating most at node `--at A|B|C` (default B), from alloc-sampler.ts
 * preloaded into the nodes). Also reported: context switches per delivered event at each node
 * (every thread), the handoffs that per-event CPU at a moderate rate mostly pays for on a VM,
 * each node's CPU per event by kind of thread (event loop, LevelDB's threads, V8's helpers, the
 * verify worker; proc-cpu.ts), and each node's peak RSS (VmHWM) over its life so far.
 * `--timeline S`: also, for every S seconds of the run, the events delivered per second and the
 * CPU the three nodes used per second by kind of thread, to see what comes in bursts.
 */

const USAGE = `usage: node dist/scripts/bench/node-cpu.js [options]
  --events N      events published at A (default 8000)
  --batch B       publish requests of B events, 4 in flight (default 1: single events, 32 in flight)
  --rate R        single events open loop at R per second instead of a closed loop
  --alloc         also V8 heap bytes allocated per delivered event at each node
  --top K         with --alloc: the K functions allocating most (default 15)
  --at A|B|C      with --alloc: the node those functions are listed for (default B)
  --timeline S    also delivered events and the nodes' CPU by kind of thread for every S seconds
environment: CDGOSSIP_BENCH_BIN=<build>/bin/cdgossip.js runs the nodes from another build`

/** The fixed amount of publishing: closed loop (single events or batches) or open loop at a rate. */
async function publishAll (target: CdgossipTarget, payloads: Payloads, tracker: DeliveryTracker, total: number, batch: number, rate: number | undefined): Promise<void> {
  const sendOne = async (): Promise<void> => {
    const sentAt = performance.now()
    const key = await target.publish(payloads.next())
    tracker.accepted(key, sentAt, performance.now())
  }
  if (rate !== undefined) {
    await openLoop({ total, ratePerSec: rate, maxInFlight: 256, maxMs: total / rate * 1000 + 60_000, send: sendOne })
    return
  }
  await closedLoop({
    total: Math.ceil(total / batch),
    inFlight: batch === 1 ? DEFAULT_OPTIONS.inFlight : 4,
    maxMs: 600_000,
    send: async () => {
      if (batch === 1) {
        await sendOne()
        return
      }
      const sentAt = performance.now()
      const { body, items } = payloads.batch(batch)
      for (const key of await target.publishBatch(body, items)) tracker.accepted(key, sentAt, performance.now())
    }
  })
}

/** Per delivered event, rounded, for each node. */
function perDelivered (values: number[], delivered: number, digits: number): Record<string, number> {
  const [A, B, C] = values.map(v => Number((v / delivered).toFixed(digits)))
  return { A: A as number, B: B as number, C: C as number }
}

/** CPU seconds of a node process so far (0 once it is gone). */
async function cpuSeconds (node: NodeProcess): Promise<number> {
  return (await cpuOf(node.pid ?? 0) ?? 0) / 1000
}

/** CPU ms so far of a node process's threads by kind (all 0 once it is gone). */
async function threadCpu (node: NodeProcess): Promise<ThreadCpu> {
  return await threadCpuOf(node.pid ?? 0) ?? noThreadCpu()
}

/**
 * Readings of the delivered count and every node's CPU by kind of thread, at the start, every
 * `everyMs` and once `work` has settled (whatever its outcome, which the caller awaits itself).
 */
async function recordTimeline (nodes: NodeProcess[], tracker: DeliveryTracker, everyMs: number, work: Promise<unknown>): Promise<TimelineReading[]> {
  const started = performance.now()
  const read = async (): Promise<TimelineReading> => {
    const threads = await Promise.all(nodes.map(threadCpu))
    return { atMs: performance.now() - started, delivered: tracker.deliveredEverywhere(), threads }
  }
  let done = false
  const settled = work.then(() => { done = true }, () => { done = true })
  const readings = [await read()]
  while (!done) {
    await Promise.race([sleep(everyMs), settled])
    readings.push(await read())
  }
  return readings
}

/** ms per delivered event by kind of thread, kinds that used no CPU left out. */
function perDeliveredByThread (cpu: ThreadCpu, delivered: number): Partial<Record<ThreadKind, number>> {
  const out: Partial<Record<ThreadKind, number>> = {}
  for (const kind of THREAD_KINDS) if (cpu[kind] > 0) out[kind] = Number((cpu[kind] / delivered).toFixed(3))
  return out
}

/** Context switches of a node process's threads so far (0 once it is gone). */
async function switchesOf (node: NodeProcess): Promise<number> {
  return await contextSwitchesOf(node.pid ?? 0) ?? 0
}

async function main (): Promise<void> {
  const values = scriptArgs(USAGE, { events: { type: 'string' }, batch: { type: 'string' }, rate: { type: 'string' }, alloc: { type: 'boolean' }, top: { type: 'string' }, at: { type: 'string' }, timeline: { type: 'string' } })
  const total = integerOption(values.events, '--events', 8000)
  const batch = integerOption(values.batch, '--batch', 1)
  const rate = values.rate === undefined ? undefined : Number(values.rate)
  const top = integerOption(values.top, '--top', 15)
  const at = values.at ?? 'B'
  const timelineSeconds = values.timeline === undefined ? undefined : integerOption(values.timeline, '--timeline', 1)
  if (rate !== undefined && !(rate > 0)) throw new UsageError('--rate takes events per second, above 0')
  if (rate !== undefined && batch !== 1) throw new UsageError('--rate sends single events: leave out --batch')
  if (!['A', 'B', 'C'].includes(at)) throw new UsageError('--at names node A, B or C')
  const ctx = await createContext('/tmp', { ...DEFAULT_OPTIONS, noBaseline: true }, line => { console.error(line) })
  const alloc = values.alloc === true ? await allocationDir() : undefined
  const allocDir = alloc?.dir
  try {
    await withWarmFederation(ctx, 'node-cpu', { seed: 21, label: 'cpu', nodeArgs: () => allocDir === undefined ? [] : [...ALLOC_SAMPLER_ARGS] }, async ({ nodes, target, payloads, tracker }) => {
      const all = [nodes.a, nodes.b, nodes.c]
      if (allocDir !== undefined) toggleSampling(all)
      const before = await Promise.all(all.map(cpuSeconds))
      const switchesBefore = await Promise.all(all.map(switchesOf))
      const threadsBefore = await Promise.all(all.map(threadCpu))
      const started = performance.now()
      const work = (async () => {
        await publishAll(target, payloads, tracker, total, batch, rate)
        return await tracker.drain(300_000)
      })()
      const timeline = timelineSeconds === undefined ? undefined : recordTimeline(all, tracker, timelineSeconds * 1000, work)
      const drained = await work
      const seconds = (performance.now() - started) / 1000
      const after = await Promise.all(all.map(cpuSeconds))
      const switches = (await Promise.all(all.map(switchesOf))).map((s, i) => s - (switchesBefore[i] as number))
      const threadsAfter = await Promise.all(all.map(threadCpu))
      if (allocDir !== undefined) toggleSampling(all)
      const peaks = await Promise.all(all.map(async n => (await n.memory())?.peakRssMiB ?? 0))
      const cpu = after.map((a, i) => a - (before[i] as number))
      const delivered = tracker.deliveredEverywhere()
      const sum = cpu.reduce((s, c) => s + c, 0)
      const threads = threadsAfter.map((t, i) => perDeliveredByThread(threadCpuDelta(threadsBefore[i] as ThreadCpu, t), delivered))
      console.log(JSON.stringify({
        events: total,
        batch,
        ...(rate === undefined ? {} : { rate }),
        delivered,
        drained,
        deliveredPerSecond: Math.round(delivered / seconds),
        cpuMsPerEvent: Number((sum * 1000 / delivered).toFixed(3)),
        cpuMsPerEventByNode: perDelivered(cpu.map(c => c * 1000), delivered, 3),
        cpuMsPerEventByThread: { A: threads[0], B: threads[1], C: threads[2] },
        contextSwitchesPerEventByNode: perDelivered(switches, delivered, 2),
        peakRssMiBByNode: { A: peaks[0], B: peaks[1], C: peaks[2] }
      }))
      if (timeline !== undefined) console.log(JSON.stringify({ timeline: timelineIntervals(await timeline) }))
      if (allocDir !== undefined) {
        const { perEvent, topSites } = await allocationReport(allocDir, all, delivered, top, at)
        console.log(JSON.stringify({ heapBytesPerDeliveredEvent: perEvent }))
        for (const line of topSites) console.log(line)
      }
    })
  } finally {
    await removeContext(ctx)
    await alloc?.remove()
  }
}

exitWith(main(), USAGE, async () => { await cleanupAll(line => { console.error(line) }) })
