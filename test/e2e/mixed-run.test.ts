import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { dataDirPaths } from '../../src/data-dir.js'
import { encodeRecordFrame, FRAME_MAGIC } from '../../src/p2p/index.js'
import { loadOrCreateIdentity } from '../../src/signing/index.js'
import type { Signer } from '../../src/signing/index.js'
import type { EventClass } from '../../src/events/types.js'
import { sha256Hex, startP2PNode } from '../helpers/p2p.js'
import type { TestNode } from '../helpers/p2p.js'
import { allEvents, artifactPublished, E2E_NETWORK, pipelineRunFinished, publishAll, sequenceProblems, startNodes, waitFor } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'
import { signRecord, signRecordAs } from '../helpers/records.js'
import { newSigner } from '../signing/fixtures.js'

/**
 * The faster paths (record frames, frames verified together and stored in one write, sync pages
 * verified on both cores) under everything at once: a federation at full publishing speed while
 * both receiving nodes restart and a hostile peer sends garbage the whole time. Whatever the
 * frame path skips, the end state shows: every acknowledged event at every node exactly once,
 * contiguous sequences, nothing of the garbage anywhere.
 */

const ATTACKED: EventClass = 'artifact.published'
const TOPIC = `cdgossip/${E2E_NETWORK}/${ATTACKED}`
const SOURCE = 'https://ci.origin.example/jenkins'
/** events per publish call; one call is one group commit, so its records travel in frames */
const BATCH = 10
/** batches published after both restarts, so the end of the run is under load too */
const BATCHES_AFTER_RESTARTS = 20
/** a guard against a run that never ends, not a target */
const MAX_EVENTS = 20_000
/** sequences the garbage claims for the origin: far above anything the run publishes */
const CLAIMED_SEQUENCE_BASE = 1_000_000

/** One message of garbage per kind; `n` makes each unique (gossipsub drops repeats by message id). */
type GarbageKind = 'noise' | 'forged-frame' | 'broken-frame' | 'forged-record' | 'stranger' | 'misfiled'
const KINDS: GarbageKind[] = ['noise', 'forged-frame', 'broken-frame', 'forged-record', 'stranger', 'misfiled']

interface Attack {
  /** every message sent, to check none of its records is held anywhere */
  records: Uint8Array[]
  next: (kind: GarbageKind) => Uint8Array
}

function attack (origin: Signer, stranger: Signer): Attack {
  const records: Uint8Array[] = []
  let n = 0
  const keep = (bytes: Uint8Array): Uint8Array => { records.push(bytes); return bytes }
  const artifact = (): ReturnType<typeof artifactPublished> => artifactPublished({ source: `${SOURCE}/release` })
  return {
    records,
    next (kind) {
      n++
      switch (kind) {
        case 'noise':
          return randomBytes(64 + (n % 512))
        case 'forged-frame':
          // the origin's own genuine record beside a forgery: the whole frame must go
          return encodeRecordFrame([
            keep(signRecord(artifact(), origin, CLAIMED_SEQUENCE_BASE + 2 * n)),
            keep(signRecordAs(artifact(), stranger, origin.peerId, CLAIMED_SEQUENCE_BASE + 2 * n + 1))
          ])
        case 'broken-frame': {
          // two records announced, the first one's length runs past the end
          const frame = new Uint8Array(FRAME_MAGIC.byteLength + 6 + 32)
          frame.set(FRAME_MAGIC)
          const view = new DataView(frame.buffer)
          view.setUint16(FRAME_MAGIC.byteLength, 2)
          view.setUint32(FRAME_MAGIC.byteLength + 2, 4096 + n)
          return frame
        }
        case 'forged-record':
          return keep(signRecordAs(artifact(), stranger, origin.peerId, CLAIMED_SEQUENCE_BASE + 2 * n))
        case 'stranger':
          // genuine, but signed by nobody the receivers trust
          return keep(signRecord(artifact(), stranger, n))
        case 'misfiled':
          // genuinely the origin's, of another class, on the artifact topic
          return keep(signRecord(pipelineRunFinished({ source: `${SOURCE}/build` }), origin, CLAIMED_SEQUENCE_BASE + 2 * n))
      }
    }
  }
}

describe('a federation under load while nodes restart and a hostile peer sends garbage', () => {
  it('ends with every acknowledged event at every node exactly once, contiguous sequences and nothing of the garbage', async () => {
    const [origin, b, c] = await startNodes(3, {
      names: ['origin', 'b', 'c'],
      topology: 'full',
      configure: (config, { name, peerIds }) => {
        if (name === 'origin') return
        config.trust.communities = [{ peerId: peerIds[0] as string, name: 'origin', sources: [SOURCE] }]
        config.subscriptions = [{ classes: ['*'] }]
      },
      meshClasses: [ATTACKED, 'pipelinerun.finished']
    }) as [E2eNode, E2eNode, E2eNode]
    const identity = await loadOrCreateIdentity(dataDirPaths(origin.dataDir).identity)
    // the hostile peer signs with its own libp2p key: its own records are refused as untrusted, not as forwarded
    const stranger = await newSigner()
    const garbage = attack({ privateKey: identity.privateKey, peerId: origin.peerId }, stranger)

    const hostile: TestNode = await startP2PNode({ name: 'hostile', network: E2E_NETWORK, classes: [ATTACKED], targetConnections: 1, privateKey: stranger.privateKey })
    const hostilePubsub = hostile.service.libp2p.services.pubsub
    /** dials b when it runs and the hostile peer is not connected to it (b restarts under it) */
    const reach = async (): Promise<boolean> => {
      if (!b.running) return false
      if (hostilePubsub.getSubscribers(TOPIC).some((p) => p.toString() === b.peerId)) return true
      await hostile.service.dial(b.address()).catch(() => undefined)
      return false
    }
    let sent = 0
    const sendGarbage = async (kind: GarbageKind): Promise<void> => {
      if (!await reach()) return
      // b may go down between the check and the send: garbage that reaches nobody proves nothing and is not counted
      await hostilePubsub.publish(TOPIC, garbage.next(kind)).then(() => { sent++ }, () => undefined)
    }

    // the load: origin publishes as fast as it can, one garbage message after each batch;
    // b restarts after 50 batches, c after b is back and 50 more batches went out
    const acknowledged: string[] = []
    let batches = 0
    let restartsDone = false
    let after = 0
    const restarts = (async () => {
      await waitFor(() => batches >= 50, { timeout: 60_000, message: 'the load to start' })
      await b.restart()
      const resumed = batches
      await waitFor(() => batches >= resumed + 50, { timeout: 60_000, message: 'the load to go on after b restarted' })
      await c.restart()
      restartsDone = true
    })()
    while (after < BATCHES_AFTER_RESTARTS && acknowledged.length < MAX_EVENTS) {
      const events = Array.from({ length: BATCH }, (_, i) => i % 3 === 0
        ? pipelineRunFinished({ source: `${SOURCE}/build` })
        : artifactPublished({ source: `${SOURCE}/release` }))
      const receipts = await publishAll(origin.node, events)
      acknowledged.push(...receipts.map((r) => r.digest))
      await sendGarbage(KINDS[batches % KINDS.length] as GarbageKind)
      batches++
      if (restartsDone) after++
    }
    await restarts
    expect(acknowledged.length).toBeLessThan(MAX_EVENTS)
    expect(sent).toBeGreaterThan(0)

    // the last attack reaches the restarted b for sure: each kind refused by its own check
    await waitFor(reach, { message: 'the hostile peer to reach the restarted b' })
    await waitFor(() => b.node.p2p.meshPeers(ATTACKED).includes(hostile.service.peerId) || b.node.p2p.subscribers(ATTACKED).includes(hostile.service.peerId), {
      message: 'b to see the hostile peer on the attacked topic'
    })
    for (const kind of KINDS) await hostilePubsub.publish(TOPIC, garbage.next(kind))
    await waitFor(() => {
      const received = b.node.p2p.counters().received
      return ['reject:CDG_BAD_SIGNATURE', 'reject:CDG_INVALID_CLOUDEVENT', 'reject:CDG_TOPIC_MISMATCH', 'ignore:CDG_UNTRUSTED_SIGNER']
        .every((code) => (received[code] ?? 0) > 0)
    }, { message: 'b to refuse every kind of garbage' })
    await waitFor(() => b.node.p2p.libp2p.services.pubsub.getScore(hostile.service.peerId) < 0, { message: 'the hostile peer to score negative at b' })

    // both receivers end with exactly what the origin acknowledged (sync repairs what the restarts missed)
    const expected = [...acknowledged].sort()
    for (const node of [b, c]) {
      await waitFor(async () => (await allEvents(node.node)).length >= expected.length, { timeout: 60_000, message: `${node.name} to hold all ${expected.length} events` })
    }
    const garbageDigests = new Set(garbage.records.map(sha256Hex))
    for (const node of [origin, b, c]) {
      const events = await allEvents(node.node)
      const held = events.map((s) => s.event.digest)
      expect(held.filter((d) => garbageDigests.has(d))).toEqual([])
      expect(held.sort()).toEqual(expected)
      expect(sequenceProblems(events)).toEqual([])
      expect(events.every((s) => s.event.origin === origin.peerId)).toBe(true)
    }
  }, 180_000)
})
