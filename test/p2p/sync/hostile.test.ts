import * as lp from 'it-length-prefixed'
import { describe, it, expect } from 'vitest'
import { SYNC_PROTOCOL } from '../../../src/p2p/sync/index.js'
import { decodeRequest, encodeEnd, encodeRecord, encodeSummary, FRAME_KIND, MAX_CONTROL_FRAME_BYTES, MAX_FRAME_BYTES } from '../../../src/p2p/sync/protocol.js'
import { toFrameStream } from '../../../src/p2p/sync/stream-adapter.js'
import { CLASS, connect, createNode, createSyncNode, makeRecord, peerState, waitFor } from './helpers.js'
import type { RangeRequest } from '../../../src/p2p/sync/protocol.js'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

type Behaviour = 'garbage' | 'forged' | 'oversized' | 'endless' | 'silent' | 'wrong-record' | 'bad-summary' | 'no-end' | 'stall-range' | 'liar'

/** Records an endless server sends beyond the requested range before it goes quiet (without ending). */
const ENDLESS_EXTRA = 50

/**
 * A peer that announces `highest` records of `origin` and then misbehaves. It speaks the raw
 * 2.x stream API so it can break the framing the real server never would.
 */
async function createHostile (behaviour: Behaviour, origin: string, highest: number): Promise<{ libp2p: Libp2p, peerId: string, served: () => number }> {
  const libp2p = await createNode()
  let served = 0
  await libp2p.handle(SYNC_PROTOCOL, ({ stream }) => {
    served++
    void serveHostile(stream, behaviour, origin, highest).catch(() => {})
  })
  return { libp2p, peerId: libp2p.peerId.toString(), served: () => served }
}

async function serveHostile (stream: Stream, behaviour: Behaviour, origin: string, highest: number): Promise<void> {
  const frames = toFrameStream(stream, { maxFrameBytes: MAX_CONTROL_FRAME_BYTES })
  const first = await frames.read()
  if (first === undefined) return
  const request = decodeRequest(first)
  if (behaviour === 'silent') {
    // read on, answer nothing, never close
    while (await frames.read() !== undefined) { /* drain */ }
    return
  }
  if (request.type === 'summary') {
    if (behaviour === 'bad-summary') {
      const text = JSON.stringify({ entries: [{ origin, eventClass: CLASS, highest, contiguous: highest, extra: 1 }] })
      await stream.sink(lp.encode([Uint8Array.from([FRAME_KIND.summary, ...new TextEncoder().encode(text)])]))
      return
    }
    const claimed = behaviour === 'liar' ? 2 ** 50 : highest
    await frames.writeAll([encodeSummary([{ origin, eventClass: CLASS, highest: claimed, contiguous: highest }]), encodeEnd(1, false)])
    return
  }
  if (behaviour === 'stall-range') {
    while (await frames.read() !== undefined) { /* drain */ }
    return
  }
  await stream.sink(hostileRange(behaviour, request))
}

async function * hostileRange (behaviour: Behaviour, request: RangeRequest): AsyncGenerator<Uint8Array | Uint8ArrayList> {
  const { origin, eventClass, from, to } = request
  switch (behaviour) {
    case 'garbage':
      yield Uint8Array.from([0x07, 0xee, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x09, 0x09])
      return
    case 'forged':
      for (let seq = from; seq <= to; seq++) yield * lp.encode([encodeRecord(makeRecord(origin, eventClass, seq, { forged: true }))])
      yield * lp.encode([encodeEnd(to - from + 1, false)])
      return
    case 'oversized':
      yield * lp.encode([new Uint8Array(MAX_FRAME_BYTES + 1).fill(FRAME_KIND.record)], { maxDataLength: Infinity })
      return
    case 'endless':
      // valid records, in order, past the requested range and the limit, never an end frame, and
      // the stream kept open (a flood of thousands would only measure this shared event loop)
      for (let seq = from; seq <= to + ENDLESS_EXTRA; seq++) yield * lp.encode([encodeRecord(makeRecord(origin, eventClass, seq))])
      await new Promise(() => {})
      return
    case 'wrong-record':
      yield * lp.encode([encodeRecord(makeRecord(origin, eventClass, to + 7)), encodeEnd(1, false)])
      return
    case 'no-end':
      yield * lp.encode([encodeRecord(makeRecord(origin, eventClass, from))])
      return
    default:
      yield * lp.encode([encodeEnd(0, false)])
  }
}

function hasAll (seqs: number[], n: number): boolean {
  return seqs.filter(seq => seq <= n).length === n
}

const CASES: Array<{ behaviour: Behaviour, code: string }> = [
  { behaviour: 'garbage', code: 'CDG_SYNC_PROTOCOL' },
  { behaviour: 'forged', code: 'CDG_BAD_SIGNATURE' },
  { behaviour: 'oversized', code: 'CDG_SYNC_PROTOCOL' },
  { behaviour: 'endless', code: 'CDG_SYNC_PROTOCOL' },
  { behaviour: 'silent', code: 'CDG_TIMEOUT' },
  { behaviour: 'wrong-record', code: 'CDG_SYNC_PROTOCOL' },
  { behaviour: 'bad-summary', code: 'CDG_SYNC_PROTOCOL' },
  { behaviour: 'no-end', code: 'CDG_SYNC_PROTOCOL' }
]

/** Short request budget so a silent peer costs the test one second; long backoff so it stays benched. */
const CLIENT_INIT = { requestTimeoutMs: 1_000, backoffBaseMs: 60_000 }

describe('SyncService against hostile peers', () => {
  it.each(CASES)('$behaviour: the peer is cut off and penalised, and sync completes from an honest peer', async ({ behaviour, code }) => {
    const honest = await createSyncNode()
    honest.records.add(honest.peerId, CLASS, 1, 100)
    const hostile = await createHostile(behaviour, honest.peerId, 100)
    const b = await createSyncNode({ init: CLIENT_INIT })

    await connect(b.libp2p, hostile.libp2p)
    await waitFor(() => peerState(b, hostile.peerId)?.lastError !== undefined, { message: 'the hostile peer to fail' })
    const bad = peerState(b, hostile.peerId)
    expect(bad?.lastError).toBe(code)
    expect(bad?.score).toBeLessThan(0)
    expect(bad?.backoffUntil).toBeDefined()
    expect(bad?.inFlight).toBe(0)
    const servedBefore = hostile.served()

    await connect(b.libp2p, honest.libp2p)
    await waitFor(() => hasAll(b.records.sequences(honest.peerId, CLASS), 100), { message: 'B to catch up from the honest peer' })
    await b.sync.syncNow()

    // (a wrong-record peer's record is genuine, just not the one asked for: it is stored too)
    expect(b.records.sequences(honest.peerId, CLASS).filter(seq => seq <= 100)).toHaveLength(100)
    // the penalised peer was skipped while backed off
    expect(hostile.served()).toBe(servedBefore)
    expect(peerState(b, honest.peerId)?.lastError).toBeUndefined()
  })

  it('a peer announcing an absurd highest sequence costs one empty answer', async () => {
    const liar = await createHostile('liar', 'QmSomeOrigin', 10)
    const b = await createSyncNode({ init: CLIENT_INIT })
    await connect(b.libp2p, liar.libp2p)
    await waitFor(() => peerState(b, liar.peerId)?.lastSyncAt !== undefined, { message: 'the session to end' })
    // one summary, one range request answered with nothing
    expect(liar.served()).toBe(2)
    expect(b.records.calls).toHaveLength(0)
  })

  it('a peer that never answers does not stall sync with an honest peer connected at the same time', async () => {
    const honest = await createSyncNode()
    honest.records.add(honest.peerId, CLASS, 1, 100)
    const silent = await createHostile('silent', honest.peerId, 100)
    const b = await createSyncNode({ init: CLIENT_INIT })

    await Promise.all([connect(b.libp2p, silent.libp2p), connect(b.libp2p, honest.libp2p)])
    await waitFor(() => b.records.count(honest.peerId, CLASS) === 100, { message: 'B to catch up' })
    await waitFor(() => peerState(b, silent.peerId)?.lastError !== undefined, { message: 'the silent peer to time out' })
    expect(peerState(b, silent.peerId)?.lastError).toBe('CDG_TIMEOUT')
    expect(new Set(b.records.calls.map(c => c.sequence)).size).toBe(100)
  })

  it('a page claimed by a peer that then stalls goes to an honest peer once the request times out', async () => {
    const honest = await createSyncNode()
    honest.records.add(honest.peerId, CLASS, 1, 100)
    const b = await createSyncNode({ init: CLIENT_INIT })
    // answers the summary, then never answers the range request
    const staller = await createHostile('stall-range', honest.peerId, 100)
    await connect(b.libp2p, staller.libp2p)
    await waitFor(() => (peerState(b, staller.peerId)?.inFlight ?? 0) > 0, { message: 'the staller to hold a claim' })

    // the honest peer's first session finds every sequence claimed and must not ask for them
    await connect(b.libp2p, honest.libp2p)
    await waitFor(() => b.records.count(honest.peerId, CLASS) === 100, { message: 'B to catch up' })
    expect(peerState(b, staller.peerId)?.lastError).toBe('CDG_TIMEOUT')
    expect(b.records.calls.every(c => c.from === honest.peerId)).toBe(true)
    expect(new Set(b.records.calls.map(c => c.sequence)).size).toBe(100)
  })
})
