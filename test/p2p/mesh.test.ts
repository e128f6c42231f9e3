import { describe, expect, it } from 'vitest'
import { connect, record, sha256Hex, startP2PNodes, waitFor, waitForMesh } from '../helpers/p2p.js'
import type { TestNode } from '../helpers/p2p.js'

const CLASS = 'artifact.published'

describe('a 10-node mesh over the memory transport', () => {
  it('delivers every node\'s record to every other subscribed node exactly once', async () => {
    // at most the ring's links: peer exchange would otherwise connect (nearly) everyone directly
    const nodes = await startP2PNodes(10, { transport: 'memory', classes: [CLASS], targetConnections: 1 })
    expect(nodes[0]?.service.multiaddrs()[0]).toMatch(/^\/memory\//)
    // a ring with chords: 4 links per node, so most records travel through forwarders
    const at = (i: number): TestNode => nodes[i % nodes.length] as TestNode
    for (let i = 0; i < nodes.length; i++) {
      await connect(at(i), at(i + 1))
      await connect(at(i), at(i + 3))
    }
    await waitForMesh(nodes, CLASS)

    const published = await Promise.all(nodes.map(async (node, i) => {
      const bytes = record(`artifact ${i} published by ${node.name}`)
      await node.service.publish(CLASS, bytes)
      return { node, digest: sha256Hex(bytes) }
    }))

    await waitFor(() => nodes.every((n) => n.records.stored.size === nodes.length - 1), {
      message: 'every node to store the other nine records'
    })
    for (const { node: origin, digest } of published) {
      for (const node of nodes) {
        expect(node.records.callsFor(digest), `${origin.name}'s record at ${node.name}`).toBe(node === origin ? 0 : 1)
      }
    }
    for (const node of nodes) {
      expect(node.service.counters().received).toEqual({ stored: nodes.length - 1 })
    }
  })
})
