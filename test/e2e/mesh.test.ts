import { describe, expect, it } from 'vitest'
import type { CDEvent } from '../../src/events/types.js'
import { allEvents, artifactPublished, pipelineRunFinished, sequenceProblems, serviceDeployed, startNodes, waitFor } from '../helpers/nodes.js'

const NODES = 10
const PER_NODE = 3
const CLASSES = ['artifact.published', 'pipelinerun.finished', 'service.deployed']

/** Each node dials its predecessor and the node at half its index: a connected graph with several paths and hops. */
const TOPOLOGY = {
  bootstrap: Array.from({ length: NODES }, (_, i) => [...new Set(i === 0 ? [] : [i - 1, Math.floor(i / 2)])])
}

describe('a ten-community mesh where everyone trusts and wants everything', () => {
  it('stores every event at every node exactly once, with contiguous sequences per origin', async () => {
    const nodes = await startNodes(NODES, {
      transport: 'memory',
      topology: TOPOLOGY,
      configure: (config, { index, peerIds, names }) => {
        config.trust.communities = peerIds.flatMap((peerId, j) => j === index ? [] : [{ peerId, name: names[j] as string, sources: ['*'] }])
        config.subscriptions = [{ classes: ['*'] }]
      },
      meshClasses: CLASSES
    })

    // every store write at every node, counted per digest
    const storedAt = nodes.map(() => new Map<string, number>())
    nodes.forEach((n, i) => n.node.onStored((s) => {
      const counts = storedAt[i] as Map<string, number>
      counts.set(s.event.digest, (counts.get(s.event.digest) ?? 0) + 1)
    }))

    const receipts = (await Promise.all(nodes.map(async (n, i) => {
      const source = `https://ci.${n.name}.example/pipeline`
      const events: CDEvent[] = [
        artifactPublished({ source }),
        i % 2 === 0 ? pipelineRunFinished({ source }) : serviceDeployed({ source }),
        artifactPublished({ source })
      ]
      // one call per event: three separate gossip bursts per node, all nodes at once
      const out = []
      for (const cdevent of events) out.push(...await n.node.publish([{ cdevent }]))
      return out
    }))).flat()
    expect(receipts).toHaveLength(PER_NODE * NODES)
    const expected = receipts.map((r) => r.digest).sort()
    expect(new Set(expected).size).toBe(PER_NODE * NODES)

    await waitFor(() => storedAt.every((counts) => expected.every((d) => counts.has(d))), {
      timeout: 20_000,
      message: 'every node to store every event'
    })

    for (const [i, n] of nodes.entries()) {
      const counts = storedAt[i] as Map<string, number>
      expect([...counts.entries()].filter(([, c]) => c !== 1), `${n.name} stored an event twice`).toEqual([])
      const held = await allEvents(n.node)
      expect(held.map((s) => s.event.digest).sort(), `${n.name}'s store`).toEqual(expected)
      expect(sequenceProblems(held), `${n.name}'s sequences`).toEqual([])
      // per origin: artifacts 1 and 2, the other class 1
      for (const origin of nodes) {
        const mine = held.filter((s) => s.event.origin === origin.peerId).map((s) => `${s.event.eventClass}#${s.event.sequence}`).sort()
        const other = origin.index % 2 === 0 ? 'pipelinerun.finished' : 'service.deployed'
        expect(mine, `${n.name} holds ${origin.name}'s events`).toEqual(['artifact.published#1', 'artifact.published#2', `${other}#1`].sort())
      }
    }
  })
})
