import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { onTestFinished } from 'vitest'
import { CdgossipError } from '../../src/errors.js'
import { P2PService } from '../../src/p2p/index.js'
import type { EventClass, SignedEvent } from '../../src/events/types.js'
import type { FrameRecordOutcome, P2PComponents, P2PInit, P2PServiceComponents, ReceiveContext, ReceiveOutcome } from '../../src/p2p/index.js'
import type { SequenceState } from '../../src/events/records.js'
import type { PrivateKey } from '@libp2p/interface'
import { waitFor } from './wait-for.js'
import type { WaitForOptions } from './wait-for.js'

export const TEST_NETWORK = 'testnet'
/** Records starting with this make TestRecords throw CDG_BAD_SIGNATURE (a forgery). */
export const FORGED_PREFIX = 'FORGED:'
/** Records starting with this make TestRecords throw CDG_INVALID_EVENT. */
export const MALFORMED_PREFIX = 'MALFORMED:'

export interface ReceivedRecord {
  bytes: Uint8Array
  digest: string
  context: ReceiveContext
}

/**
 * P2PComponents for p2p tests: no crypto, the verdict is in the bytes' prefix. It is the node's
 * receive path that is replaced here, not libp2p: every byte still crosses real connections.
 */
export class TestRecords implements P2PComponents {
  /** every receiveRecord call, in order, whatever its outcome */
  readonly calls: ReceivedRecord[] = []
  /** stored records by digest */
  readonly stored = new Map<string, ReceivedRecord>()

  /** classes this node stores; others come back 'relayed' */
  constructor (private readonly storeClasses: ReadonlySet<EventClass>) {}

  async receiveRecord (bytes: Uint8Array, context: ReceiveContext): Promise<ReceiveOutcome> {
    const digest = sha256Hex(bytes)
    const received = { bytes, digest, context }
    this.calls.push(received)
    const text = Buffer.from(bytes.subarray(0, 16)).toString('latin1')
    if (text.startsWith(FORGED_PREFIX)) throw new CdgossipError('CDG_BAD_SIGNATURE', 'test forgery')
    if (text.startsWith(MALFORMED_PREFIX)) throw new CdgossipError('CDG_INVALID_EVENT', 'test malformed event')
    const event = { bytes, digest, eventClass: context.expectedClass } as unknown as SignedEvent
    if (this.stored.has(digest)) return { status: 'duplicate', event }
    if (!this.storeClasses.has(context.expectedClass)) return { status: 'relayed', event }
    this.stored.set(digest, received)
    return { status: 'stored', event }
  }

  /** the records of every frame received, as a frame's own bytes (receiveFrame calls) */
  readonly frames: Uint8Array[][] = []

  /** like the node's: a frame with any forged or malformed record throws before anything is stored */
  async receiveFrame (records: readonly Uint8Array[], context: ReceiveContext): Promise<FrameRecordOutcome[]> {
    this.frames.push(records.map(r => r.slice()))
    for (const bytes of records) {
      const text = Buffer.from(bytes.subarray(0, 16)).toString('latin1')
      if (text.startsWith(FORGED_PREFIX)) throw new CdgossipError('CDG_BAD_SIGNATURE', 'test forgery in a frame')
      if (text.startsWith(MALFORMED_PREFIX)) throw new CdgossipError('CDG_INVALID_EVENT', 'test malformed event in a frame')
    }
    const outcomes: FrameRecordOutcome[] = []
    for (const bytes of records) outcomes.push(await this.receiveRecord(bytes.slice(), context))
    return outcomes
  }

  async sequenceStates (): Promise<SequenceState[]> {
    return []
  }

  async * readSequenceRange (): AsyncIterable<Uint8Array> {}

  storedOf (eventClass: EventClass): ReceivedRecord[] {
    return [...this.stored.values()].filter((r) => r.context.expectedClass === eventClass)
  }

  callsFor (digest: string): number {
    return this.calls.filter((c) => c.digest === digest).length
  }
}

export interface TestNode {
  name: string
  service: P2PService
  records: TestRecords
  privateKey: PrivateKey
}

export interface TestNodeOptions extends Partial<Omit<P2PInit, 'privateKey'>> {
  name?: string
  privateKey?: PrivateKey
  /** joined with setClasses() before start @default [] */
  classes?: EventClass[]
  /** classes TestRecords stores @default classes */
  storeClasses?: EventClass[]
  /** the service's logger and peer memory @default none */
  log?: P2PServiceComponents['log']
  peerMemory?: P2PServiceComponents['peerMemory']
}

/** Quick gossip for tests: heartbeats every 100 ms, watchdog every 500 ms. */
export const TEST_HEARTBEAT_MS = 100
export const TEST_WATCHDOG_MS = 500

/** Start one real node on 127.0.0.1 (TCP port 0 unless `listen` says otherwise); stopped when the test ends. */
export async function startP2PNode (options: TestNodeOptions = {}): Promise<TestNode> {
  const { name = 'node', privateKey: givenKey, classes = [], storeClasses, log, peerMemory, ...init } = options
  const privateKey = givenKey ?? await generateKeyPair('Ed25519')
  const records = new TestRecords(new Set(storeClasses ?? classes))
  const transport = init.transport ?? 'tcp'
  const components: P2PServiceComponents = {
    receiveRecord: async (bytes, context) => await records.receiveRecord(bytes, context),
    receiveFrame: async (frame, context) => await records.receiveFrame(frame, context),
    ...(log === undefined ? {} : { log }),
    ...(peerMemory === undefined ? {} : { peerMemory })
  }
  const service = new P2PService(components, {
    network: TEST_NETWORK,
    heartbeatIntervalMs: TEST_HEARTBEAT_MS,
    watchdogIntervalMs: TEST_WATCHDOG_MS,
    ...init,
    listen: init.listen ?? (transport === 'tcp' ? ['/ip4/127.0.0.1/tcp/0'] : undefined),
    privateKey
  })
  service.setClasses(classes)
  onTestFinished(async () => { await service.stop() })
  await service.start()
  return { name, service, records, privateKey }
}

/** Start `n` nodes with the same options (names n0, n1, …), in parallel. */
export async function startP2PNodes (n: number, options: TestNodeOptions = {}): Promise<TestNode[]> {
  return await Promise.all(Array.from({ length: n }, async (_, i) => await startP2PNode({ ...options, name: `n${i}` })))
}

/** Dial a → b. */
export async function connect (a: TestNode, b: TestNode): Promise<void> {
  const address = b.service.multiaddrs()[0]
  if (address === undefined) throw new Error(`${b.name} has no listen address`)
  await a.service.dial(address)
}

/** Connect each node to the next: n0–n1–…–nk. */
export async function connectLine (nodes: TestNode[]): Promise<void> {
  for (let i = 0; i + 1 < nodes.length; i++) {
    await connect(nodes[i] as TestNode, nodes[i + 1] as TestNode)
  }
}

export { waitFor }
export type { WaitForOptions }

/** gossipsub's Dlo: a mesh is formed once it has this many peers, or every subscribed connected peer. */
const MESH_LOW_WATERMARK = 4

/**
 * Wait until every node that joined `eventClass` knows which of its connected peers joined it and
 * has them in its mesh (up to gossipsub's low watermark), so a publish now reaches everyone.
 */
export async function waitForMesh (nodes: TestNode[], eventClass: EventClass, options: Omit<WaitForOptions, 'message'> = {}): Promise<void> {
  const joinedIds = (): Set<string> => new Set(nodes.filter((n) => joined(n, eventClass)).map((n) => n.service.peerId))
  await waitFor(() => {
    const ids = joinedIds()
    return nodes.filter((n) => joined(n, eventClass)).every((node) => {
      const expected = node.service.peers().map((p) => p.peerId).filter((id) => ids.has(id))
      if (expected.length === 0) return false
      const subscribers = new Set(node.service.subscribers(eventClass))
      const mesh = node.service.meshPeers(eventClass)
      return expected.every((id) => subscribers.has(id)) && mesh.length >= Math.min(expected.length, MESH_LOW_WATERMARK)
    })
  }, { ...options, message: `a ${eventClass} mesh over ${nodes.map((n) => n.name).join(', ')}` })
}

function joined (node: TestNode, eventClass: EventClass): boolean {
  return node.service.topics().some((topic) => topic.endsWith(`/${eventClass}`))
}

/** Wire bytes of a test record: `text` padded with filler to `size` bytes when given. */
export function record (text: string, size?: number): Uint8Array {
  const head = Buffer.from(text, 'utf8')
  if (size === undefined || size <= head.byteLength) return new Uint8Array(head)
  const out = new Uint8Array(size).fill(0x2e)
  out.set(head)
  return out
}

export function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
