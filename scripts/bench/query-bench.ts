import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { Level } from 'level'
import { dataDirPaths } from '../../src/data-dir.js'
import { loadOrCreateIdentity } from '../../src/signing/index.js'
import { EventStore } from '../../src/store/index.js'
import type { BenchContext, Figure, PartResult } from './context.js'
import { dirFor } from './context.js'
import { NodeProcess } from './node-process.js'
import type { QueryClientJob, ShapeTimings } from './query-client-worker.js'
import type { FillBatch, FillJob } from './query-fill-worker.js'
import { onCleanup } from './resources.js'
import { rate, round, summarize, type LatencySummary } from './stats.js'
import { SUBJECT_POOL, Workload } from './workload.js'

/**
 * Figure 4: GET /v1/events latency on a large store, and store size on disk per event. The store
 * is filled directly through EventStore with records signed here (much faster than publishing them
 * over HTTP), then a node process serves it and the bench asks one query at a time.
 */

/** Records per appendBatch while filling (the store merges queued calls into writes of up to 10,000). */
const FILL_BATCH = 1000
/** Signing worker threads: with the writing main thread they keep two cores busy. */
const FILL_LANES = 2
/** Batches asked of each lane ahead of the write: enough to never wait, bounded memory. */
const FILL_AHEAD = 2
/** Event times spread over this span, so since/until windows select realistic slices. */
const SPAN_MS = 30 * 24 * 3600 * 1000
/** The store size issue #6 asks for (the default of `--query-events`). */
const ISSUE_EVENTS = 1_000_000
/** Requests per query shape, after WARMUP_QUERIES of each. */
const QUERIES_PER_SHAPE = 100
const WARMUP_QUERIES = 10
/** The node builds its filter of held (source, id) keys in ~2 s per million records here. */
const FILTER_SCAN_TIMEOUT_MS = 120_000
/**
 * The node's JSON log line when the filter of its event store is built (src/store/held-ids.ts);
 * the store of records fetched for traces logs the same under another component.
 */
const FILTER_BUILT_LINE = /"component":"store","keys":(\d+),"ms":(\d+),"msg":"event store: uniqueness filter built"/
/** The community's CI tools: source-prefix queries select one of them. */
const SOURCES = [
  'https://ci.community-a.example.org/jenkins',
  'https://ci.community-a.example.org/tekton',
  'https://gitlab.community-a.example.org/ci',
  'https://zuul.community-a.example.org/tenant/main'
]

interface FillResult {
  events: number
  ms: number
  eventsPerSec: number
  /** average wire record size */
  recordBytes: number
  chainIds: string[]
  start: number
  origin: string
}

/**
 * Signs and stores `n` records. Signing (with validation ~130 µs a record) would leave one thread
 * far behind the store's write, so FILL_LANES worker threads sign batches while this thread
 * writes them with appendBatch, in batch order: arrival order, event time and each class's
 * sequence all ascend together, as on a node that received them one by one.
 */
async function fillStore (storePath: string, keyPath: string, n: number, log: (line: string) => void): Promise<FillResult> {
  const origin = await loadOrCreateIdentity(keyPath)
  const job: FillJob = {
    keyPath,
    events: n,
    batchSize: FILL_BATCH,
    seed: 41,
    idPrefix: `query-${Date.now().toString(36)}`,
    sources: SOURCES,
    start: Date.now() - SPAN_MS,
    step: SPAN_MS / n,
    chainEvery: 997
  }
  const store = new EventStore({}, { path: storePath })
  await store.start()
  const lanes = Array.from({ length: FILL_LANES }, () => new Worker(new URL('./query-fill-worker.js', import.meta.url), { workerData: job, name: 'query-fill' }))
  const unregister = onCleanup('query fill', async () => {
    await Promise.all(lanes.map(async (w) => await w.terminate()))
    await store.stop()
  })
  // batch number -> its signed records; each lane answers its requests in order
  const waiting = new Map<number, { resolve: (b: FillBatch) => void, reject: (err: unknown) => void }>()
  const answers = new Map<number, Promise<FillBatch>>()
  const failAll = (err: unknown): void => { for (const w of waiting.values()) w.reject(err); waiting.clear() }
  for (const lane of lanes) {
    lane.on('message', (b: FillBatch) => { waiting.get(b.batch)?.resolve(b); waiting.delete(b.batch) })
    lane.on('error', failAll)
    lane.on('exit', (code) => { failAll(new Error(`query fill worker exited (${code})`)) })
  }
  const batches = Math.ceil(n / FILL_BATCH)
  const request = (batch: number): void => {
    if (batch >= batches) return
    const answer = new Promise<FillBatch>((resolve, reject) => { waiting.set(batch, { resolve, reject }) })
    answer.catch(() => {}) // awaited in turn below; a failure must not count as unhandled meanwhile
    answers.set(batch, answer)
    ;(lanes[batch % lanes.length] as Worker).postMessage(batch)
  }
  const chainIds: string[] = []
  let bytes = 0
  const t0 = performance.now()
  let lastLog = t0
  let pending: Promise<unknown> = Promise.resolve()
  try {
    for (let b = 0; b < FILL_AHEAD * lanes.length; b++) request(b)
    for (let b = 0; b < batches; b++) {
      const batch = await (answers.get(b) as Promise<FillBatch>)
      answers.delete(b)
      request(b + FILL_AHEAD * lanes.length)
      bytes += batch.bytes
      chainIds.push(...batch.chainIds)
      // one write in flight while the next batch arrives
      await pending
      pending = store.appendBatch(batch.events.map(event => ({ event, trusted: true })))
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now()
        log(`  filled ${(b * FILL_BATCH).toLocaleString('en-US')} of ${n.toLocaleString('en-US')}`)
      }
    }
    await pending
  } finally {
    await Promise.all(lanes.map(async (w) => await w.terminate()))
    await store.stop()
    unregister()
  }
  const ms = performance.now() - t0
  return { events: n, ms: round(ms, 0), eventsPerSec: rate(n, ms), recordBytes: round(bytes / n, 0), chainIds, start: job.start, origin: origin.peerId }
}

/**
 * A store that grew over weeks has been compacted by LevelDB along the way; a bulk load has not.
 * Compacting once after the fill measures the steady state instead of the load's backlog.
 */
async function compactStore (storePath: string): Promise<number> {
  const t0 = performance.now()
  const db = new Level<string, string>(storePath)
  await db.open()
  try {
    // classic-level has compactRange; the `level` typings do not declare it
    await (db as unknown as { compactRange: (start: string, end: string) => Promise<void> }).compactRange('\x00', '\uffff')
  } finally {
    await db.close()
  }
  return round(performance.now() - t0, 0)
}

/** Bytes allocated on disk under `dir` (what `du` reports); a file removed meanwhile (a live LevelDB compacting) counts for nothing. */
export async function diskUsage (dir: string): Promise<{ allocated: number, apparent: number }> {
  let allocated = 0
  let apparent = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const s = await stat(path.join(entry.parentPath, entry.name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined
      throw err
    })
    if (s === undefined) continue
    allocated += s.blocks * 512
    apparent += s.size
  }
  return { allocated, apparent }
}

/** Runs the queries one at a time from a worker thread (query-client-worker.ts), each shape's timings to `onShape` as it ends. */
async function measureQueries (job: QueryClientJob, onShape: (timings: ShapeTimings) => void): Promise<void> {
  const worker = new Worker(new URL('./query-client-worker.js', import.meta.url), { workerData: job, name: 'query-client' })
  const unregister = onCleanup('query client', async () => { await worker.terminate() })
  try {
    await new Promise<void>((resolve, reject) => {
      let shapes = 0
      worker.on('message', (timings: ShapeTimings) => {
        shapes++
        onShape(timings)
      })
      worker.on('error', reject)
      worker.on('exit', (code) => {
        if (code === 0 && shapes === job.shapes.length) resolve()
        else reject(new Error(`query client worker exited (${code}) after ${shapes} of ${job.shapes.length} shapes`))
      })
    })
  } finally {
    unregister()
  }
}

interface Shape {
  name: string
  /** builds the i-th query string */
  query: (i: number) => string
}

function shapes (fill: FillResult): Shape[] {
  const hour = 3600 * 1000
  const window = (i: number): [string, string] => {
    const from = fill.start + ((i * 7919) % 29) * 24 * hour + 12 * hour
    return [new Date(from).toISOString(), new Date(from + hour).toISOString()]
  }
  const subject = (i: number): string => encodeURIComponent(Workload.subjectFor((i * 7907) % SUBJECT_POOL))
  return [
    { name: 'latest page (no filter)', query: () => '' },
    { name: 'type=pipelinerun.finished (class)', query: () => 'type=pipelinerun.finished' },
    { name: 'type=<exact type> artifact.published', query: () => `type=${encodeURIComponent('dev.cdevents.artifact.published.0.3.0')}` },
    { name: 'subject=<id> (one artifact)', query: i => `subject=${subject(i)}` },
    { name: 'source=<prefix> (a quarter)', query: i => `source=${encodeURIComponent(SOURCES[i % SOURCES.length] as string)}` },
    { name: 'chainId=<id> (one match)', query: i => `chainId=${encodeURIComponent(fill.chainIds[i % fill.chainIds.length] ?? 'none')}` },
    { name: 'since/until one-hour window', query: i => { const [s, u] = window(i); return `since=${encodeURIComponent(s)}&until=${encodeURIComponent(u)}` } },
    { name: 'type + since/until (class in a day)', query: i => { const [s] = window(i); return `type=testsuiterun.finished&since=${encodeURIComponent(s)}&until=${encodeURIComponent(new Date(Date.parse(s) + 24 * hour).toISOString())}` } },
    { name: 'type + subject', query: i => `type=artifact.published&subject=${subject(i)}` },
    { name: 'origin=<peer id>', query: () => `origin=${fill.origin}` }
  ]
}

export async function runQuery (ctx: BenchContext): Promise<PartResult> {
  const started = performance.now()
  const { options, log } = ctx
  const n = options.queryEvents
  const node = await NodeProcess.create('Q', dirFor(ctx, 'query', 'q'))
  log(`query: filling a store with ${n.toLocaleString('en-US')} signed records through EventStore`)
  const fill = await fillStore(dataDirPaths(node.dataDir).store, dirFor(ctx, 'query', 'origin.key'), n, log)
  log(`  filled in ${(fill.ms / 1000).toFixed(1)} s (${fill.eventsPerSec} records/s, ${fill.recordBytes} B per wire record)`)
  const compactMs = await compactStore(dataDirPaths(node.dataDir).store)
  log(`  compacted in ${(compactMs / 1000).toFixed(1)} s`)

  const results: Array<{ shape: string, latencyMs: LatencySummary, avgResults: number, avgResponseKiB: number }> = []
  const all: number[] = []
  let filterScan = { keys: 0, ms: 0 }
  try {
    await node.configure({})
    await node.start()
    // queries are measured on a node in its steady state: not while it builds its in-memory
    // filter of held (source, id) keys from the store (src/store/held-ids.ts)
    const built = await node.waitForOutput(FILTER_BUILT_LINE, FILTER_SCAN_TIMEOUT_MS)
    filterScan = { keys: Number(built[1]), ms: Number(built[2]) }
    log(`  the node built its filter of ${filterScan.keys.toLocaleString('en-US')} held (source, id) keys in ${filterScan.ms} ms`)
    // one warm-up pass over every shape first: the node has just opened a cold store
    const job: QueryClientJob = {
      apiUrl: node.apiUrl,
      token: node.token,
      shapes: shapes(fill).map((shape) => ({
        name: shape.name,
        warmup: Array.from({ length: WARMUP_QUERIES }, (_, i) => shape.query(QUERIES_PER_SHAPE + i)),
        measured: Array.from({ length: QUERIES_PER_SHAPE }, (_, i) => shape.query(i))
      }))
    }
    await measureQueries(job, ({ name, latencies, resultCount, responseBytes }) => {
      all.push(...latencies)
      const latencyMs = summarize(latencies)
      results.push({ shape: name, latencyMs, avgResults: round(resultCount / QUERIES_PER_SHAPE, 1), avgResponseKiB: round(responseBytes / QUERIES_PER_SHAPE / 1024, 1) })
      log(`  ${name}: p50 ${latencyMs.p50} ms, p99 ${latencyMs.p99} ms (${round(resultCount / QUERIES_PER_SHAPE, 1)} results)`)
    })
  } finally {
    await node.stop()
  }
  const disk = await diskUsage(dataDirPaths(node.dataDir).store)
  const overall = summarize(all)
  const perEvent = disk.allocated / n
  log(`  overall p50 ${overall.p50} ms, p99 ${overall.p99} ms; store ${(disk.allocated / 1024 ** 2).toFixed(0)} MiB = ${Math.round(perEvent)} B/event`)
  const worst = results.reduce((a, b) => (b.latencyMs.p99 > a.latencyMs.p99 ? b : a))

  const figures: Figure[] = [
    {
      id: 'query.p50',
      label: `Query GET /v1/events p50 (${n.toLocaleString('en-US')} records, ${results.length} filter shapes)`,
      unit: 'ms',
      cdgossip: overall.p50,
      baseline: undefined,
      better: 'lower',
      note: 'n/a (no query)'
    },
    {
      id: 'query.p99',
      label: `Query GET /v1/events p99 (${n.toLocaleString('en-US')} records, all shapes)`,
      unit: 'ms',
      cdgossip: overall.p99,
      baseline: undefined,
      better: 'lower',
      note: 'n/a (no query)'
    },
    {
      id: 'query.p99.worst',
      label: `Query p99, slowest shape (${worst.shape})`,
      unit: 'ms',
      cdgossip: worst.latencyMs.p99,
      baseline: undefined,
      better: 'lower',
      note: 'n/a'
    },
    {
      id: 'store.bytesPerEvent',
      label: 'Store size on disk per event',
      unit: 'B',
      cdgossip: Math.round(perEvent),
      baseline: undefined,
      better: 'lower',
      note: 'n/a (a queue, not a store)'
    }
  ]
  const notes = [
    `Store of ${n.toLocaleString('en-US')} records${n === ISSUE_EVENTS ? '' : ` (the issue asks for ${ISSUE_EVENTS.toLocaleString('en-US')})`} (\`--query-events\` changes it), filled directly through EventStore.appendBatch in calls of ${FILL_BATCH} records, each record validated and signed in one of ${FILL_LANES} worker threads (${fill.eventsPerSec} records/s, ${(fill.ms / 1000).toFixed(0)} s), event times spread over 30 days, 4 CI sources, ${SUBJECT_POOL} artifact subjects, then compacted once (${(compactMs / 1000).toFixed(0)} s) as LevelDB would have done while the store grew. Average wire record ${fill.recordBytes} B (≈ 1 KB CDEvent, base64 in the signed CloudEvent).`,
    `A node process then serves it, once it has built its in-memory filter of the store's ${filterScan.keys.toLocaleString('en-US')} (source, id) keys (a background scan of ${filterScan.ms} ms from the store's opening; src/store/held-ids.ts); one request at a time from a worker thread of the bench (a V8 heap of its own, so the fill's garbage does not pause the client), ${QUERIES_PER_SHAPE} per shape after a warm-up pass of ${WARMUP_QUERIES} per shape, default page size (100), latency to the full response body. Per shape (p50 / p99 ms, results per page): ${results.map(r => `${r.shape}: ${r.latencyMs.p50} / ${r.latencyMs.p99} (${r.avgResults})`).join('; ')}.`,
    `Disk: ${(disk.allocated / 1024 ** 2).toFixed(1)} MiB allocated (${(disk.apparent / 1024 ** 2).toFixed(1)} MiB apparent) after the node closed the store = ${Math.round(perEvent)} B per event (record, ten indexes, LevelDB with its default Snappy compression).`
  ]
  return {
    name: 'query',
    figures,
    raw: { fill: { ...fill, chainIds: fill.chainIds.length }, compactMs, filterScan, shapes: results, overall, disk, bytesPerEvent: round(perEvent, 0) },
    notes,
    durationMs: performance.now() - started
  }
}
