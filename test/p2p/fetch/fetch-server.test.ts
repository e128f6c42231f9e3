import { describe, expect, it } from 'vitest'
import { FetchServer } from '../../../src/p2p/fetch/fetch-server.js'
import { encodeFetchRequest, MAX_FETCH_RECORDS } from '../../../src/p2p/fetch/protocol.js'
import { decodeResponseFrame } from '../../../src/p2p/sync/protocol.js'
import type { ResponseFrame } from '../../../src/p2p/sync/protocol.js'
import type { Frame, FrameStream } from '../../../src/p2p/sync/stream-adapter.js'
import type { FetchCounters } from '../../../src/p2p/fetch/types.js'
import type { TraceRef } from '../../../src/contracts/trace.js'

/** One side of a stream: the request frames it will read, and what the server wrote. */
function streamOf (request: Uint8Array[]): { stream: FrameStream, written: () => ResponseFrame[] } {
  const frames: Uint8Array[] = []
  const stream: FrameStream = {
    read: async () => request.shift(),
    writeAll: async source => {
      for await (const f of source as AsyncIterable<Frame>) frames.push(f instanceof Uint8Array ? f : f.subarray())
    },
    close: async () => {},
    abort: () => {}
  }
  return { stream, written: () => frames.map(f => decodeResponseFrame(f)) }
}

function counters (): FetchCounters {
  return { requested: 0, failed: 0, served: 0, recordsServed: 0, refusedBusy: 0, refusedInvalid: 0 }
}

const REFS: TraceRef[] = [{ kind: 'chain', id: 'c' }]
const record = (i: number): Uint8Array => new TextEncoder().encode(`{"record":${i}}`)

describe('FetchServer', () => {
  it('answers at most MAX_FETCH_RECORDS records and says it stopped early', async () => {
    const c = counters()
    const server = new FetchServer({
      findRecords: async function * () { for (let i = 0; i < MAX_FETCH_RECORDS + 10; i++) yield record(i) }
    }, c)
    const { stream, written } = streamOf([encodeFetchRequest(REFS)])
    await server.serve(stream, 'peer')
    const frames = written()
    expect(frames.filter(f => f.type === 'record')).toHaveLength(MAX_FETCH_RECORDS)
    expect(frames.at(-1)).toEqual({ type: 'end', count: MAX_FETCH_RECORDS, truncated: true })
    expect(c).toMatchObject({ served: 1, recordsServed: MAX_FETCH_RECORDS })
  })

  it('stops at its byte budget', async () => {
    const server = new FetchServer({
      findRecords: async function * () { for (let i = 0; i < 10; i++) yield new Uint8Array(1000).fill(0x20) }
    }, counters(), { maxResponseBytes: 2500 })
    const { stream, written } = streamOf([encodeFetchRequest(REFS)])
    await server.serve(stream, 'peer')
    expect(written().at(-1)).toEqual({ type: 'end', count: 2, truncated: true })
  })

  it('answers a malformed request `invalid` and a request over its concurrency `busy`, reading nothing', async () => {
    const c = counters()
    let release: () => void = () => {}
    const held = new Promise<void>(resolve => { release = resolve })
    let reads = 0
    const server = new FetchServer({
      findRecords: async function * () { reads++; await held; yield record(1) }
    }, c, { maxConcurrentServes: 1 })

    const bad = streamOf([Uint8Array.of(0x03, 0x7b, 0x7d)])
    await server.serve(bad.stream, 'peer')
    expect(bad.written()).toEqual([{ type: 'error', reason: 'invalid' }])

    const first = streamOf([encodeFetchRequest(REFS)])
    const serving = server.serve(first.stream, 'peer')
    const second = streamOf([encodeFetchRequest(REFS)])
    await server.serve(second.stream, 'other')
    expect(second.written()).toEqual([{ type: 'error', reason: 'busy' }])
    release()
    await serving
    expect(first.written().at(-1)).toEqual({ type: 'end', count: 1, truncated: false })
    expect(reads).toBe(1)
    expect(c).toMatchObject({ served: 1, refusedBusy: 1, refusedInvalid: 1 })
  })
})
