import '../../src/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { encodeCDEventData, toCloudEventAttributes } from '../../src/events/index.js'
import { ReceivePipeline } from '../../src/pipeline/index.js'
import { signCloudEvent, sharedVerifier } from '../../src/signing/index.js'
import { createEventStore } from '../../src/store/index.js'
import { Workload } from './workload.js'
import { classOf } from './payloads.js'
import { formatTopSites, summarizeAllocations } from './heap-profile.js'
import { UsageError, exitWith, integerOption, scriptArgs } from './script-args.js'
import { describeThreadSplit, threadCpuDelta, threadCpuOf } from './proc-cpu.js'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/**
 * V8 heap bytes allocated per received record by the receive path (verify → validate → trust →
 * store), measured with the sampling heap profiler counting collected objects too, on a real
 * store in a temp dir: `node dist/scripts/bench/receive-alloc.js [--records N] [--mode single|frame] [--top K]`
 * (`--top` lists the K functions allocating most, bytes per record). `--cpu` reports CPU per record
 * instead (all threads: this one, the verify workers, LevelDB's, and that sum split by kind of
 * thread where Linux names them), without the sampler.
 * `single` hands each record to receive() (64 at a time, as a gossip burst arrives); `frame`
 * hands them to receiveFrame() 64 at a time. The libp2p stack's own allocations (protobuf,
 * Noise, gossipsub's caches) are not in this figure: it is the part cdgossip's code decides.
 */

const BURST = 64

const USAGE = `usage: node dist/scripts/bench/receive-alloc.js [options]
  --records N          records received (default 6400; the first tenth warms up)
  --mode single|frame  each record alone, or frames of ${BURST} (default frame)
  --top K              also the K functions allocating most, bytes per record
  --cpu                CPU per record instead of allocations (no sampler)`

async function main (): Promise<void> {
  const values = scriptArgs(USAGE, { records: { type: 'string' }, mode: { type: 'string' }, top: { type: 'string' }, cpu: { type: 'boolean' } })
  // a tenth of the records warms up, so at least 10
  const n = integerOption(values.records, '--records', 6400, 10)
  const top = values.top === undefined ? undefined : integerOption(values.top, '--top', 1)
  const mode = values.mode ?? 'frame'
  if (mode !== 'single' && mode !== 'frame') throw new UsageError('--mode is single or frame')

  const privateKey = await generateKeyPair('Ed25519')
  const signer = { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
  const workload = new Workload({ idPrefix: `alloc-${Date.now().toString(36)}` })
  // one class, as a frame carries: sequences 1..n of one (origin, class)
  const byClass = new Map<string, Uint8Array[]>()
  while ([...byClass.values()].every(list => list.length < n)) {
    const cdevent = workload.next()
    const eventClass = classOf(cdevent.context.type)
    const list = byClass.get(eventClass) ?? []
    byClass.set(eventClass, list)
    if (list.length >= n) continue
    list.push(signCloudEvent({ attributes: toCloudEventAttributes(cdevent), data: encodeCDEventData(cdevent), sequence: list.length + 1 }, signer).bytes)
  }
  const [eventClass, records] = [...byClass.entries()].find(([, list]) => list.length >= n) as [string, Uint8Array[]]

  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdgossip-alloc-'))
  const store = await createEventStore({}, { path: dir })
  const pipeline = new ReceivePipeline({
    store,
    trust: () => ({ trusted: true }),
    wanted: () => true,
    stored: () => {},
    gap: () => {},
    verifier: sharedVerifier()
  })
  const context = { expectedClass: eventClass, from: 'bench', via: 'gossip' } as const
  const receiveAll = async (list: Uint8Array[]): Promise<void> => {
    for (let i = 0; i < list.length; i += BURST) {
      const burst = list.slice(i, i + BURST)
      if (mode === 'frame' && burst.length > 1) await pipeline.receiveFrame(burst, context)
      else await Promise.all(burst.map(async bytes => await pipeline.receive(bytes, context)))
    }
  }
  // warm up (JIT, store open) on a tenth, then measure the rest
  const warm = Math.floor(n / 10)
  await receiveAll(records.slice(0, warm))

  const measured = n - warm
  try {
    if (values.cpu === true) {
      // no sampler: it would slow the very path being timed
      const threadsBefore = await threadCpuOf(process.pid)
      const before = process.cpuUsage()
      const started = performance.now()
      await receiveAll(records.slice(warm))
      const ms = performance.now() - started
      const used = process.cpuUsage(before)
      const threadsAfter = await threadCpuOf(process.pid)
      // by kind of thread from /proc (Linux, Node.js 24 names them): where the CPU goes
      const threads = threadsBefore === undefined || threadsAfter === undefined ? undefined : describeThreadSplit(threadCpuDelta(threadsBefore, threadsAfter), measured)
      console.log(JSON.stringify({ mode, records: measured, eventClass, cpuUsPerRecord: Math.round((used.user + used.system) / measured), recordsPerSecond: Math.round(measured / ms * 1000), ...(threads === undefined ? {} : { threads }) }))
      return
    }
    const session = new Session()
    session.connect()
    await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
    const started = performance.now()
    await receiveAll(records.slice(warm))
    const ms = performance.now() - started
    const { profile } = await session.post('HeapProfiler.stopSampling')
    session.disconnect()
    const allocations = await summarizeAllocations(profile, REPO_ROOT)
    console.log(JSON.stringify({ mode, records: measured, eventClass, heapBytesPerRecord: Math.round(allocations.totalBytes / measured), recordsPerSecond: Math.round(measured / ms * 1000) }))
    if (top !== undefined) for (const line of formatTopSites(allocations, measured, top)) console.log(line)
  } finally {
    await store.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

exitWith(main(), USAGE)
