import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { KeyObject } from 'node:crypto'
import { ED25519_SIGNATURE_BYTES, ED25519_SPKI_PREFIX_BYTES, SODIUM_MODULE_PATH, spkiDer, verifyEd25519 } from './keys.js'

/**
 * Ed25519 verification off the main thread. Verifying is the costliest step of receiving a record
 * (~50 µs with libsodium, ~105 µs with node:crypto, three times a signature), and the main
 * thread also parses, validates, stores and delivers; on a node with more than one core, worker
 * threads verify while the main thread does the rest. Requests made in the same turn of the event
 * loop travel to a worker as one packed buffer, so the messaging costs a few µs per record, not one
 * round trip each. A turn with fewer requests than two gossip frames hold is verified where it is,
 * as the round trip would cost more CPU than it saves; of a larger turn the calling thread verifies
 * its share while the workers verify the rest.
 */
export interface SignatureVerifier {
  /** whether `signature` is `publicKey`'s Ed25519 signature of `message` */
  verify(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): Promise<boolean>
}

/** Verifies on the calling thread: single-core machines, and tools that open a record now and then. */
export const inlineVerifier: SignatureVerifier = {
  async verify (publicKey, message, signature) {
    return verifyEd25519(publicKey, message, signature)
  }
}

/** Most signatures per message to a worker: a page of sync arrives in a few turns anyway. */
const MAX_BATCH = 256
/**
 * Fewer requests than this in one turn are verified on the calling thread. Handing a batch to a
 * worker costs a postMessage each way and a thread wake-up on both sides: ~60 µs of main-thread
 * time measured under gossip at 500 events/s, and at saturation, where a turn holds a frame or
 * two of gossip (up to 64 records each), a receiving node's main thread spent more time posting
 * batches (303 ms) than its worker spent verifying them (76 ms). The offload buys wall time only
 * when a core is idle, and costs CPU always. So a turn's requests go to the workers from two full
 * frames up: sync pages (windows of 256 records), and a gossip backlog, which piles several frames
 * into one turn once the main thread falls behind: then a second core helps. BENCHMARKS.md,
 * round 9: with 8 here, CPU per event at saturation was 3–8 % higher, and the catch-up rate the same.
 */
export const DEFAULT_MIN_POOL_BATCH = 128
/** Verifying keys a worker keeps; a node hears from a handful of origins. */
const WORKER_KEY_CACHE = 1024

/**
 * The worker, as CommonJS source evaluated in the thread: it needs only node:crypto or the
 * sodium-native addon the main thread loaded (keys.ts; its path comes as workerData, since an
 * evaluated worker resolves modules from the working directory), and being a string it runs the
 * same from the TypeScript sources (tests) and from dist/.
 * Batch layout, per item: key DER length (1 byte), key DER (SPKI), message length (u32 LE),
 * message, 64-byte signature. Answer: one byte per item, 1 = valid.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createPublicKey, verify } = require('node:crypto')
const sodium = workerData.sodiumPath === undefined ? undefined : require(workerData.sodiumPath)
const keys = new Map()
parentPort.on('message', ({ id, buffer, count }) => {
  const buf = Buffer.from(buffer)
  const results = new Uint8Array(count)
  let at = 0
  for (let i = 0; i < count; i++) {
    const keyLength = buf[at]
    const der = buf.subarray(at + 1, at + 1 + keyLength)
    at += 1 + keyLength
    const messageLength = buf.readUInt32LE(at)
    at += 4
    const message = buf.subarray(at, at + messageLength)
    at += messageLength
    const signature = buf.subarray(at, at + ${ED25519_SIGNATURE_BYTES})
    at += ${ED25519_SIGNATURE_BYTES}
    if (sodium !== undefined) {
      results[i] = sodium.crypto_sign_verify_detached(signature, message, der.subarray(${ED25519_SPKI_PREFIX_BYTES})) ? 1 : 0
      continue
    }
    const tag = der.toString('latin1')
    let key = keys.get(tag)
    if (key === undefined) {
      if (keys.size >= ${WORKER_KEY_CACHE}) keys.clear()
      key = createPublicKey({ key: der, format: 'der', type: 'spki' })
      keys.set(tag, key)
    }
    results[i] = verify(null, message, key, signature) ? 1 : 0
  }
  parentPort.postMessage({ id, results }, [results.buffer])
})
`

interface Request {
  publicKey: KeyObject
  message: Uint8Array
  signature: Uint8Array
  resolve: (valid: boolean) => void
}

interface Lane {
  worker: Worker
  batches: Map<number, Request[]>
}

function pack (requests: Request[]): ArrayBuffer {
  let size = 0
  for (const r of requests) size += 1 + spkiDer(r.publicKey).byteLength + 4 + r.message.byteLength + ED25519_SIGNATURE_BYTES
  const buf = Buffer.allocUnsafeSlow(size)
  let at = 0
  for (const r of requests) {
    const der = spkiDer(r.publicKey)
    buf[at] = der.byteLength
    at += 1 + der.copy(buf, at + 1)
    at = buf.writeUInt32LE(r.message.byteLength, at)
    buf.set(r.message, at)
    at += r.message.byteLength
    buf.set(r.signature, at)
    at += ED25519_SIGNATURE_BYTES
  }
  return buf.buffer
}

/** The verify workers' thread name (at most 15 characters: Linux keeps no more); the bench tells their CPU apart by it. */
export const VERIFY_WORKER_NAME = 'cdgossip-verify'

/** The verifying worker this pool runs one of per thread. */
function startVerifyWorker (): Worker {
  return new Worker(WORKER_SOURCE, { eval: true, name: VERIFY_WORKER_NAME, workerData: { sodiumPath: SODIUM_MODULE_PATH } })
}

export interface VerifyPoolOptions {
  /** @default DEFAULT_MIN_POOL_BATCH */
  minBatch?: number
  /**
   * The part of a batch verified on the calling thread while the workers verify the rest.
   * @default an equal share for the caller and each worker: 1 / (threads + 1)
   */
  callerShare?: number
  /** starts one worker thread; tests pass one that fails, to see the pool verify in its place */
  startWorker?: () => Worker
}

/**
 * A fixed set of verifying worker threads, shared by everything in the process (several nodes in
 * one test process share the cores too). Should a worker fail, its batches are verified on the
 * calling thread and the next batch starts a fresh worker: a record's verdict never depends on
 * the pool's health.
 */
export class VerifyPool implements SignatureVerifier {
  private readonly lanes: Array<Lane | undefined>
  private queue: Request[] = []
  private flushScheduled = false
  private nextLane = 0
  private nextBatch = 0
  private readonly minBatch: number
  private readonly callerShare: number
  private readonly startWorker: () => Worker
  private inline = 0

  constructor (threads: number, options: VerifyPoolOptions = {}) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError('a verify pool needs at least one thread')
    this.lanes = new Array(threads).fill(undefined)
    this.minBatch = options.minBatch ?? DEFAULT_MIN_POOL_BATCH
    this.callerShare = options.callerShare ?? 1 / (threads + 1)
    if (!(this.callerShare >= 0 && this.callerShare < 1)) throw new RangeError('callerShare is a fraction in [0, 1)')
    this.startWorker = options.startWorker ?? startVerifyWorker
  }

  /** Batches handed to a worker so far (the rest were verified on the calling thread). */
  get batchesSent (): number {
    return this.nextBatch
  }

  /** Signatures verified on the calling thread so far. */
  get verifiedHere (): number {
    return this.inline
  }

  async verify (publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    // never valid, and the packed layout has room for exactly 64 bytes
    if (signature.byteLength !== ED25519_SIGNATURE_BYTES) return false
    return await new Promise<boolean>((resolve) => {
      this.queue.push({ publicKey, message, signature, resolve })
      if (this.queue.length >= MAX_BATCH) this.flush()
      else if (!this.flushScheduled) {
        this.flushScheduled = true
        setImmediate(() => { this.flush() })
      }
    })
  }

  private flush (): void {
    this.flushScheduled = false
    const requests = this.queue
    this.queue = []
    if (requests.length < this.minBatch) {
      this.verifyHere(requests)
      return
    }
    // The calling thread takes its share of a burst (a sync window, a gossip backlog) while the
    // workers verify the rest, split evenly between them: with one worker per core but one, every
    // core verifies. Sent first, so the workers start while this thread works.
    const here = Math.floor(requests.length * this.callerShare)
    const share = Math.min(MAX_BATCH, Math.ceil((requests.length - here) / this.lanes.length))
    for (let i = here; i < requests.length; i += share) this.send(requests.slice(i, Math.min(i + share, requests.length)))
    this.verifyHere(requests.slice(0, here))
  }

  private verifyHere (requests: Request[]): void {
    this.inline += requests.length
    verifyInline(requests)
  }

  private send (requests: Request[]): void {
    const index = this.nextLane
    this.nextLane = (this.nextLane + 1) % this.lanes.length
    let lane: Lane
    try {
      lane = this.lanes[index] ?? this.startLane(index)
    } catch {
      verifyInline(requests)
      return
    }
    const id = this.nextBatch++
    // referenced only while it owes answers: an idle pool never keeps the process alive
    if (lane.batches.size === 0) lane.worker.ref()
    lane.batches.set(id, requests)
    const buffer = pack(requests)
    lane.worker.postMessage({ id, buffer, count: requests.length }, [buffer])
  }

  private startLane (index: number): Lane {
    const worker = this.startWorker()
    worker.unref()
    const lane: Lane = { worker, batches: new Map() }
    worker.on('message', ({ id, results }: { id: number, results: Uint8Array }) => {
      const requests = lane.batches.get(id)
      if (requests === undefined) return
      lane.batches.delete(id)
      if (lane.batches.size === 0) worker.unref()
      requests.forEach((r, i) => { r.resolve(results[i] === 1) })
    })
    const fail = (): void => {
      if (this.lanes[index] === lane) this.lanes[index] = undefined
      for (const requests of lane.batches.values()) verifyInline(requests)
      lane.batches.clear()
    }
    worker.on('error', fail)
    worker.on('exit', fail)
    this.lanes[index] = lane
    return lane
  }
}

function verifyInline (requests: Request[]): void {
  for (const r of requests) r.resolve(verifyEd25519(r.publicKey, r.message, r.signature))
}

let shared: SignatureVerifier | undefined

/**
 * The process's verifier: a pool of one thread per core but one (at most four), or the calling
 * thread on a single core, where a worker would only add messaging.
 */
export function sharedVerifier (): SignatureVerifier {
  if (shared === undefined) {
    const threads = Math.min(4, availableParallelism() - 1)
    shared = threads >= 1 ? new VerifyPool(threads) : inlineVerifier
  }
  return shared
}
