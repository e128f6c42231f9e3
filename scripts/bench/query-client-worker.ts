import { parentPort, workerData } from 'node:worker_threads'
import { HttpClient } from './http-load.js'

/**
 * The query part's client (query-bench.ts), on a V8 heap of its own. The bench process fills the
 * query store through its main thread first; with a million records, its heap then ran a full
 * collection every ~100 ms while it measured the queries, each pausing it for 4–14 ms plus
 * incremental marking steps of up to 13 ms, and those pauses landed in the measured latencies
 * (BENCHMARKS.md, round 14). A worker's heap starts empty, whatever the fill left behind.
 */

export interface QueryShapeJob {
  name: string
  /** query strings run first and not measured: the node has just opened a cold store */
  warmup: string[]
  measured: string[]
}

export interface QueryClientJob {
  apiUrl: string
  token: string
  shapes: QueryShapeJob[]
}

/** Posted once per shape, in order, after every shape's warm-up has run. */
export interface ShapeTimings {
  name: string
  /** ms per measured query, in order */
  latencies: number[]
  /** event views returned over the measured queries */
  resultCount: number
  responseBytes: number
}

const job = workerData as QueryClientJob
const port = parentPort ?? fail('query-client-worker runs as a worker thread')
const client = new HttpClient(job.apiUrl, job.token, 1)

/**
 * One query, its latency to the full response body. The body stays bytes: a page of 100 events
 * is ~200 KB, and as a string it would land in V8's large-object space, whose growth triggers
 * full collections of this small heap.
 */
async function get (q: string): Promise<{ ms: number, bytes: Buffer }> {
  const t = performance.now()
  const res = await client.requestBytes('GET', `/v1/events${q === '' ? '' : `?${q}`}`)
  const ms = performance.now() - t
  if (res.status !== 200) throw new Error(`GET /v1/events?${q}: HTTP ${res.status} ${res.bytes.subarray(0, 300).toString('utf8')}`)
  return { ms, bytes: res.bytes }
}

/** Occurrences of `needle` in `bytes`. */
function count (bytes: Buffer, needle: string): number {
  let n = 0
  for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + needle.length)) n++
  return n
}

try {
  for (const shape of job.shapes) for (const q of shape.warmup) await get(q)
  for (const shape of job.shapes) await measure(shape)
} finally {
  client.close()
}

async function measure (shape: QueryShapeJob): Promise<void> {
  const timings: ShapeTimings = { name: shape.name, latencies: [], resultCount: 0, responseBytes: 0 }
  for (const q of shape.measured) {
    const { ms, bytes } = await get(q)
    timings.latencies.push(ms)
    // each event view has one top-level cursor
    timings.resultCount += count(bytes, '"cursor":')
    timings.responseBytes += bytes.length
  }
  port.postMessage(timings)
}

function fail (message: string): never {
  throw new Error(message)
}
