import '../../src/polyfill.js'
import { parentPort, workerData } from 'node:worker_threads'
import { encodeCDEventData, eventClassOf, toCloudEventAttributes, validateCDEvent } from '../../src/events/index.js'
import type { SignedEvent } from '../../src/events/index.js'
import { loadOrCreateIdentity, signCloudEvent } from '../../src/signing/index.js'
import { Workload } from './workload.js'

/**
 * A signing lane of the query store's fill (query-bench.ts). Every lane replays the same
 * deterministic workload stream, so each record's event time and its (origin, class) sequence
 * number are the same whichever lane signs it; a lane validates and signs only the batches it is
 * asked for (always in increasing order) and skips the records in between, which costs it the
 * workload generation alone (~15 µs a record against ~130 µs to validate and sign).
 */

export interface FillJob {
  keyPath: string
  /** records in the whole store */
  events: number
  batchSize: number
  seed: number
  idPrefix: string
  sources: string[]
  /** event time of record 0 and the step between records (ms) */
  start: number
  step: number
  /** every record whose index is a multiple of this reports its chain id (the chainId query) */
  chainEvery: number
}

/** Asked: batch number. Answered: that batch's records, ready for EventStore.appendBatch. */
export interface FillBatch {
  batch: number
  events: SignedEvent[]
  /** wire bytes of the batch */
  bytes: number
  chainIds: string[]
}

const job = workerData as FillJob
const port = parentPort
if (port === null) throw new Error('query-fill-worker runs as a worker thread')
const origin = await loadOrCreateIdentity(job.keyPath)
let index = 0
const workload = new Workload({ seed: job.seed, idPrefix: job.idPrefix, sources: job.sources, clock: () => job.start + index * job.step })
const sequences = new Map<string, number>()

function nextSequence (eventClass: string): number {
  const sequence = (sequences.get(eventClass) ?? 0) + 1
  sequences.set(eventClass, sequence)
  return sequence
}

port.on('message', (batch: number) => {
  const from = batch * job.batchSize
  const to = Math.min(job.events, from + job.batchSize)
  for (; index < from; index++) {
    const cdevent = workload.next()
    nextSequence(eventClassOf(cdevent.context.type) ?? cdevent.context.type)
  }
  const answer: FillBatch = { batch, events: [], bytes: 0, chainIds: [] }
  for (; index < to; index++) {
    const { cdevent, parsedType } = validateCDEvent(workload.next())
    const eventClass = parsedType.eventClass
    const signed = signCloudEvent({ attributes: toCloudEventAttributes(cdevent), data: encodeCDEventData(cdevent), sequence: nextSequence(eventClass) }, origin)
    answer.bytes += signed.bytes.length
    if (index % job.chainEvery === 0 && cdevent.context.chainId !== undefined) answer.chainIds.push(cdevent.context.chainId)
    answer.events.push({ ...signed, cdevent, eventClass })
  }
  port.postMessage(answer)
})
