import '../../src/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { CATCHUP_TIMEOUT_MS, FILL_BATCH, FILL_IN_FLIGHT, FILL_TIMEOUT_MS, prepareCatchupPair } from './catchup-bench.js'
import { ALLOC_SAMPLER_ARGS, allocationDir, allocationReport, toggleSampling } from './node-alloc.js'
import { NodeProcess } from './node-process.js'
import { measureBatch } from './publish-bench.js'
import { cleanupAll } from './resources.js'
import { exitWith, integerOption, scriptArgs } from './script-args.js'
import { waitUntil } from './stats.js'

/**
 * V8 heap bytes the restarted node allocates per caught-up event, counting what the garbage
 * collector already freed: the catch-up part's experiment (B misses N events of A, restarts and
 * syncs them) with alloc-sampler.js preloaded into B, sampling from B's REST API answering until
 * it holds all N. `node dist/scripts/bench/catchup-alloc.js [--events N] [--top K]`; `--top` lists
 * the K functions allocating most, bytes per event. GC work grows with these bytes: V8's helper
 * threads are a tenth of a caught-up event's CPU (the catch-up part's thread split).
 */

const USAGE = `usage: node dist/scripts/bench/catchup-alloc.js [options]
  --events N   events B misses and catches up (default 50000)
  --top K      the K functions allocating most at B (default 25)`

async function main (): Promise<void> {
  const values = scriptArgs(USAGE, { events: { type: 'string' }, top: { type: 'string' } })
  const n = integerOption(values.events, '--events', 50_000)
  const top = integerOption(values.top, '--top', 25)
  const alloc = await allocationDir()
  const base = await mkdtemp(path.join(os.tmpdir(), 'cdgossip-catchup-alloc-'))
  const a = await NodeProcess.create('A', path.join(base, 'a'))
  const b = await NodeProcess.create('B', path.join(base, 'b'))
  try {
    const { target, payloads, held0 } = await prepareCatchupPair(a, b, { seed: 31, label: 'catchup-alloc' })
    const fill = await measureBatch(target, payloads, { inFlight: FILL_IN_FLIGHT, batchSize: FILL_BATCH, maxMs: FILL_TIMEOUT_MS, maxEvents: n })
    if (fill.events !== n) throw new Error(`A accepted ${fill.events} of ${n} events: ${fill.firstError ?? ''}`)
    await b.start([...ALLOC_SAMPLER_ARGS])
    toggleSampling([b])
    const started = performance.now()
    await waitUntil(async () => await b.storedCount() >= held0 + n, { timeoutMs: CATCHUP_TIMEOUT_MS, intervalMs: 100, message: 'B holding every missed event' })
    const ms = performance.now() - started
    toggleSampling([b])
    const { perEvent, topSites } = await allocationReport(alloc.dir, [b], n, top, 'B')
    console.log(JSON.stringify({ events: n, catchupMs: Math.round(ms), heapBytesPerCaughtUpEvent: perEvent.B }))
    for (const line of topSites) console.log(line)
  } finally {
    await b.stop()
    await a.stop()
    await rm(base, { recursive: true, force: true })
    await alloc.remove()
  }
}

exitWith(main(), USAGE, async () => { await cleanupAll(line => { console.error(line) }) })
