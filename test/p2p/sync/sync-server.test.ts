import * as lp from 'it-length-prefixed'
import { describe, it, expect } from 'vitest'
import { SYNC_PROTOCOL } from '../../../src/p2p/sync/index.js'
import { decodeResponseFrame, encodeRequest, MAX_CONTROL_FRAME_BYTES, MAX_FRAME_BYTES } from '../../../src/p2p/sync/protocol.js'
import { toFrameStream } from '../../../src/p2p/sync/stream-adapter.js'
import { CLASS, connect, createNode, createSyncNode, peerState, waitFor } from './helpers.js'
import type { ResponseFrame } from '../../../src/p2p/sync/protocol.js'
import type { Libp2p } from '@libp2p/interface'

/** Sends raw bytes as the request and collects every response frame until the server ends or resets. */
async function rawExchange (client: Libp2p, server: Libp2p, request: Uint8Array[]): Promise<{ frames: ResponseFrame[], error?: Error }> {
  const stream = await client.dialProtocol(server.peerId, SYNC_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  const frames = toFrameStream(stream, { maxFrameBytes: MAX_FRAME_BYTES })
  const out: ResponseFrame[] = []
  try {
    await stream.sink(request)
    for (let frame = await frames.read(); frame !== undefined; frame = await frames.read()) out.push(decodeResponseFrame(frame))
    return { frames: out }
  } catch (err) {
    return { frames: out, error: err as Error }
  }
}

describe('SyncServer', () => {
  it('answers a range with at most limit records, then an end frame', async () => {
    const a = await createSyncNode({ classes: [] })
    a.records.add('QmO', CLASS, 1, 50)
    const client = await createNode()
    await connect(client, a.libp2p)

    const { frames } = await rawExchange(client, a.libp2p, [lp.encode.single(encodeRequest({ type: 'range', origin: 'QmO', eventClass: CLASS, from: 11, to: 40, limit: 5 })).subarray()])
    expect(frames.map(f => f.type)).toEqual(['record', 'record', 'record', 'record', 'record', 'end'])
    expect(frames.at(-1)).toEqual({ type: 'end', count: 5, truncated: false })
    expect(a.records.maxPulled).toBe(5)
  })

  it('answers a malformed request with an invalid error', async () => {
    const a = await createSyncNode({ classes: [] })
    const client = await createNode()
    await connect(client, a.libp2p)

    const { frames } = await rawExchange(client, a.libp2p, [lp.encode.single(Uint8Array.from([0x02, 0x7b, 0x7d])).subarray()])
    expect(frames).toEqual([{ type: 'error', reason: 'invalid' }])
  })

  it('drops a requester whose request frame is oversized, or who never sends one', async () => {
    const a = await createSyncNode({ classes: [], init: { serverRequestTimeoutMs: 300 } })
    const client = await createNode()
    await connect(client, a.libp2p)

    const oversized = await rawExchange(client, a.libp2p, [...lp.encode([new Uint8Array(MAX_CONTROL_FRAME_BYTES + 10)])])
    expect(oversized.frames).toEqual([])

    // a stream that sends nothing and stays open: the server gives up on it
    const stream = await client.dialProtocol(a.libp2p.peerId, SYNC_PROTOCOL)
    const frames = toFrameStream(stream, { maxFrameBytes: MAX_FRAME_BYTES })
    const hung = new Promise<string>(resolve => { setTimeout(() => { resolve('hung') }, 10_000).unref() })
    const outcome = await Promise.race([frames.read().then(frame => frame === undefined ? 'ended' : 'frame', () => 'reset'), hung])
    expect(['ended', 'reset']).toContain(outcome)
  })

  it('answers busy beyond its concurrency budget; the requester backs off without penalising it', async () => {
    const a = await createSyncNode({ init: { maxConcurrentServes: 0 } })
    a.records.add(a.peerId, CLASS, 1, 5)
    const b = await createSyncNode()
    await connect(b.libp2p, a.libp2p)
    await waitFor(() => peerState(b, a.peerId)?.lastError !== undefined, { message: 'B to be refused' })
    const state = peerState(b, a.peerId)
    expect(state?.lastError).toBe('CDG_SYNC_PROTOCOL')
    expect(state?.score).toBe(0)
    expect(state?.backoffUntil).toBeDefined()
    expect(b.records.count(a.peerId, CLASS)).toBe(0)
  })

  it('ends a page early on its byte budget; the requester continues from there with the same peer', async () => {
    const a = await createSyncNode({ init: { maxPageBytes: 1_000 } })
    a.records.add(a.peerId, CLASS, 1, 60)
    const b = await createSyncNode()
    await connect(b.libp2p, a.libp2p)
    await waitFor(() => b.records.count(a.peerId, CLASS) === 60, { message: 'B to catch up in truncated pages' })
    expect(a.records.rangeReads).toBeGreaterThan(1)
    expect(new Set(b.records.calls.map(c => c.sequence)).size).toBe(60)
    expect(b.records.calls).toHaveLength(60)
  })
})
