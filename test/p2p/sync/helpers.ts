import { createHash } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { onTestFinished } from 'vitest'
import { CdgossipError } from '../../../src/errors.js'
import { MAX_RECORD_BYTES, SyncService } from '../../../src/p2p/sync/index.js'
import type { EventClass, SignedEvent } from '../../../src/events/types.js'
import type { SyncComponents, SyncInit, SyncStartPoint } from '../../../src/p2p/sync/index.js'
import type { SequenceState } from '../../../src/events/records.js'
import type { ReceiveContext, ReceiveOutcome } from '../../../src/p2p/types.js'
import type { Libp2p } from '@libp2p/interface'

export const CLASS = 'artifact.published'
export const OTHER_CLASS = 'build.finished'

/** A minimal 2.x node on 127.0.0.1: TCP, Noise, Yamux, identify. Stopped when the test ends. */
export async function createNode (): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  onTestFinished(async () => { await node.stop() })
  return node
}

export async function connect (from: Libp2p, to: Libp2p): Promise<void> {
  const addr = to.getMultiaddrs()[0]
  if (addr === undefined) throw new Error('node has no listen address')
  await from.dial(addr)
}

export { waitFor } from '../../helpers/wait-for.js'

/**
 * Test records: JSON naming their (origin, class, sequence) with a "signature" that is a hash of
 * the three. No crypto, but a record whose signature does not match is a forgery all the same.
 */
export function makeRecord (origin: string, eventClass: EventClass, sequence: number, options: { forged?: boolean, padding?: number } = {}): Uint8Array {
  const sig = options.forged === true ? 'forged' : signature(origin, eventClass, sequence)
  const pad = 'x'.repeat(options.padding ?? 0)
  return new TextEncoder().encode(JSON.stringify({ origin, eventClass, sequence, sig, pad }))
}

function signature (origin: string, eventClass: string, sequence: number): string {
  return createHash('sha256').update(`${origin}|${eventClass}|${sequence}`).digest('hex')
}

interface Parsed { origin: string, eventClass: string, sequence: number, sig: string }

export interface ReceiveCall {
  origin: string
  eventClass: string
  sequence: number
  from: string
  via: string
}

/**
 * An in-memory stand-in for the node's receive path and store: the P2PComponents functions sync
 * needs, plus floors. receiveRecord runs the checks the real one does (size, parse, signature,
 * class, trust) and reports duplicates.
 */
export class MemoryRecords {
  readonly records = new Map<string, Map<number, Uint8Array>>()
  /** every receiveRecord call that parsed, in order */
  readonly calls: ReceiveCall[] = []
  readonly floors = new Map<string, number>()
  /** origins whose records receiveRecord refuses as untrusted */
  readonly untrusted = new Set<string>()
  /** readSequenceRange calls and the most records any one of them had pulled */
  rangeReads = 0
  maxPulled = 0

  add (origin: string, eventClass: EventClass, from: number, to: number = from): this {
    for (let seq = from; seq <= to; seq++) this.put(origin, eventClass, seq, makeRecord(origin, eventClass, seq))
    return this
  }

  has (origin: string, eventClass: EventClass, seq: number): boolean {
    return this.records.get(key(origin, eventClass))?.has(seq) === true
  }

  count (origin: string, eventClass: EventClass): number {
    return this.records.get(key(origin, eventClass))?.size ?? 0
  }

  sequences (origin: string, eventClass: EventClass): number[] {
    return [...(this.records.get(key(origin, eventClass))?.keys() ?? [])].sort((a, b) => a - b)
  }

  receiveRecord = async (bytes: Uint8Array, context: ReceiveContext): Promise<ReceiveOutcome> => {
    if (bytes.byteLength > MAX_RECORD_BYTES) throw new CdgossipError('CDG_EVENT_TOO_LARGE', 'record too large')
    let parsed: Parsed
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes)) as Parsed
    } catch (err) {
      throw new CdgossipError('CDG_INVALID_CLOUDEVENT', 'not a record', { cause: err })
    }
    if (typeof parsed.origin !== 'string' || typeof parsed.eventClass !== 'string' || !Number.isSafeInteger(parsed.sequence)) {
      throw new CdgossipError('CDG_INVALID_CLOUDEVENT', 'not a record')
    }
    if (parsed.sig !== signature(parsed.origin, parsed.eventClass, parsed.sequence)) {
      throw new CdgossipError('CDG_BAD_SIGNATURE', 'bad signature')
    }
    if (parsed.eventClass !== context.expectedClass) throw new CdgossipError('CDG_TOPIC_MISMATCH', 'class mismatch')
    this.calls.push({ origin: parsed.origin, eventClass: parsed.eventClass, sequence: parsed.sequence, from: context.from, via: context.via })
    if (this.untrusted.has(parsed.origin)) throw new CdgossipError('CDG_UNTRUSTED_SIGNER', 'untrusted')
    const event = { origin: parsed.origin, eventClass: parsed.eventClass, sequence: parsed.sequence, bytes } as unknown as SignedEvent
    if (this.has(parsed.origin, parsed.eventClass, parsed.sequence)) return { status: 'duplicate', event }
    this.put(parsed.origin, parsed.eventClass, parsed.sequence, bytes)
    return { status: 'stored', event }
  }

  sequenceStates = async (classes: EventClass[]): Promise<SequenceState[]> => {
    const wanted = new Set(classes)
    const out: SequenceState[] = []
    for (const [k, seqs] of this.records) {
      const [origin = '', eventClass = ''] = k.split('\n')
      if (!wanted.has(eventClass) || seqs.size === 0) continue
      let contiguous = 0
      while (seqs.has(contiguous + 1)) contiguous++
      out.push({ origin, eventClass, highest: Math.max(...seqs.keys()), contiguous })
    }
    return out
  }

  readSequenceRange = (origin: string, eventClass: EventClass, from: number, to: number): AsyncIterable<Uint8Array> => {
    const seqs = this.records.get(key(origin, eventClass)) ?? new Map<number, Uint8Array>()
    this.rangeReads++
    // an arrow keeps `this`: the generator below cannot be one
    const notePulled = (pulled: number): void => { this.maxPulled = Math.max(this.maxPulled, pulled) }
    return (async function * () {
      let pulled = 0
      for (const seq of [...seqs.keys()].sort((a, b) => a - b)) {
        if (seq < from || seq > to) continue
        pulled++
        notePulled(pulled)
        const bytes = seqs.get(seq)
        if (bytes !== undefined) yield bytes
      }
    })()
  }

  private put (origin: string, eventClass: EventClass, seq: number, bytes: Uint8Array): void {
    const k = key(origin, eventClass)
    let seqs = this.records.get(k)
    if (seqs === undefined) {
      seqs = new Map()
      this.records.set(k, seqs)
    }
    seqs.set(seq, bytes)
  }
}

function key (origin: string, eventClass: string): string {
  return `${origin}\n${eventClass}`
}

export interface SyncNodeOptions {
  records?: MemoryRecords
  classes?: EventClass[]
  start?: SyncStartPoint
  /** keep floors in MemoryRecords.floors (as a node that persists them would) @default true */
  persistFloors?: boolean
  init?: SyncInit
  /** further components (refusals, staleGap) */
  components?: Pick<SyncComponents, 'refusals' | 'staleGap'>
}

export interface SyncNode {
  libp2p: Libp2p
  records: MemoryRecords
  sync: SyncService
  peerId: string
  /** what wantedClasses() returns; mutable */
  classes: EventClass[]
}

/** A libp2p node with a started SyncService over MemoryRecords; both stopped when the test ends. */
export async function createSyncNode (options: SyncNodeOptions = {}): Promise<SyncNode> {
  const libp2p = await createNode()
  const records = options.records ?? new MemoryRecords()
  const node: SyncNode = { libp2p, records, sync: undefined as unknown as SyncService, peerId: libp2p.peerId.toString(), classes: options.classes ?? [CLASS] }
  const components: SyncComponents = {
    libp2p,
    receiveRecord: records.receiveRecord,
    sequenceStates: records.sequenceStates,
    readSequenceRange: records.readSequenceRange,
    wantedClasses: () => node.classes,
    startPoint: () => options.start ?? 'beginning',
    ...options.components
  }
  if (options.persistFloors !== false) {
    components.floor = (origin, eventClass) => records.floors.get(key(origin, eventClass))
    components.setFloor = (origin, eventClass, floor) => { records.floors.set(key(origin, eventClass), floor) }
  }
  node.sync = new SyncService(components, { intervalMs: 60_000, ...options.init })
  await node.sync.start()
  onTestFinished(async () => { await node.sync.stop() })
  return node
}

export function peerState (node: SyncNode, peerId: string): ReturnType<SyncService['state']>['peers'][number] | undefined {
  return node.sync.state().peers.find(p => p.peerId === peerId)
}
