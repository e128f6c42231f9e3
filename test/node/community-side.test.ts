import { pino } from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { CommunitySide } from '../../src/node/community-side.js'
import { DeliveredSets } from '../../src/node/delivered-sets.js'
import { SiblingNodes } from '../../src/node/sibling-nodes.js'
import { MemoryStateSection } from '../delivery/fixtures.js'
import { connect, startP2PNodes, TEST_NETWORK, waitFor } from '../helpers/p2p.js'
import type { TestNode } from '../helpers/p2p.js'

/** Far longer than the test waits: whatever arrives came with a progress message, not a heartbeat. */
const SLOW_HEARTBEAT_MS = 120_000

async function communitySide (node: TestNode, members: string[]): Promise<{ side: CommunitySide, delivered: DeliveredSets }> {
  const delivered = new DeliveredSets(new MemoryStateSection())
  const side = new CommunitySide({
    log: pino({ level: 'silent' }),
    siblings: new SiblingNodes(node.service.peerId.toString(), { id: 'community-id', name: 'onap', members }),
    network: TEST_NETWORK,
    heartbeatMs: SLOW_HEARTBEAT_MS,
    libp2p: node.service.libp2p,
    delivered,
    delivery: { start: async () => {}, stop: async () => {} }
  })
  await side.start()
  onTestFinished(async () => { await side.stop() })
  return { side, delivered }
}

describe('CommunitySide', () => {
  it('tells its siblings what it delivered right after delivering, not at the next heartbeat', async () => {
    const [a, b] = await startP2PNodes(2) as [TestNode, TestNode]
    await connect(a, b)
    const members = [a.service.peerId.toString(), b.service.peerId.toString()]
    const holder = await communitySide(a, members)
    const standby = await communitySide(b, members)

    const record = { origin: members[0] as string, eventClass: 'artifact.published', sequence: 1 }
    holder.delivered.handled('deploy', record)
    holder.delivered.handled('deploy', { ...record, sequence: 2 })
    // a takeover now would skip both: the standby knows of them without waiting two minutes
    await waitFor(() => standby.delivered.has('deploy', record) && standby.delivered.has('deploy', { ...record, sequence: 2 }),
      { timeout: 10_000, message: 'the standby to learn what the holder delivered' })
    expect(standby.delivered.counts()).toEqual({ deploy: 2 })
  })
})
