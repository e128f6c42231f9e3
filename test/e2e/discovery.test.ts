import { describe, expect, it } from 'vitest'
import { readPeersFile } from '../../src/data-dir.js'
import { artifactPublished, connected, digestsOf, startNodes, waitFor, waitForMesh } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'
import type { NodeInfo } from '../../src/api/types.js'

const CLASS = 'artifact.published'

interface SyncState { peers: Array<{ peerId: string, lastSyncAt?: string, inFlight: number }> }

async function nodeInfo (node: E2eNode): Promise<NodeInfo> {
  const { status, body } = await node.api().request<NodeInfo>('GET', '/v1/node')
  expect(status).toBe(200)
  return body
}

describe('peer discovery between real nodes', () => {
  it('six nodes bootstrapped only to a hub keep gossiping to each other once the hub is stopped', async () => {
    const nodes = await startNodes(7, {
      topology: 'star',
      names: ['hub', 'a', 'b', 'c', 'd', 'e', 'f'],
      configure: (config, { index, peerIds, names }) => {
        config.trust.communities = peerIds.flatMap((peerId, j) => j === index ? [] : [{ peerId, name: names[j] as string, sources: ['*'] }])
        config.subscriptions = [{ classes: [CLASS] }]
      }
    })
    const [hub, ...leaves] = nodes as [E2eNode, ...E2eNode[]]
    // settled: every leaf holds a connection to every other leaf, none of which it was given
    await waitFor(() => leaves.every((x) => leaves.every((y) => x === y || connected(x, y))), {
      timeout: 30_000,
      message: 'every leaf to discover and connect to every other leaf'
    })

    await hub.stop()
    await waitFor(() => leaves.every((l) => !connected(l, hub)), { message: 'the leaves to see the hub go' })
    await waitForMesh(leaves, CLASS)
    // the connect-time sync rounds are over, so what arrives next comes by gossip
    await waitFor(async () => {
      const states = await Promise.all(leaves.map(async (l) => (await nodeInfo(l)).sync as SyncState))
      return states.every((state, i) => leaves.every((other, j) => i === j ||
        state.peers.some((p) => p.peerId === other.peerId && p.lastSyncAt !== undefined && p.inFlight === 0)))
    }, { timeout: 20_000, message: 'the leaves\' connect-time sync rounds to end' })

    const published = await Promise.all(leaves.map(async (leaf) => {
      const [receipt] = await leaf.node.publish([{ cdevent: artifactPublished({ source: `https://ci.${leaf.name}.example/build` }) }])
      return receipt?.digest as string
    }))
    await waitFor(async () => {
      const held = await Promise.all(leaves.map(async (l) => new Set(await digestsOf(l.node))))
      return held.every((digests) => published.every((d) => digests.has(d)))
    }, { timeout: 20_000, message: 'every leaf to hold every leaf\'s event' })

    for (const leaf of leaves) {
      const info = await nodeInfo(leaf)
      // gossip brought each of the five others' events: first (stored) or after a sync round
      // that was already under way (duplicate); the gossip validator sees each message once
      const byGossip = (info.counters['gossip.received.stored'] ?? 0) + (info.counters['gossip.received.duplicate'] ?? 0)
      expect(byGossip, `${leaf.name}'s gossip counters ${JSON.stringify(info.counters)}`).toBe(leaves.length - 1)
      expect(info.peers, `${leaf.name}'s peers`).toBe(leaves.length - 1)
    }
  })

  it('a node restarted without bootstrap entries reconnects to the peers it remembers', async () => {
    const [a, b] = await startNodes(2, { topology: 'line' }) as [E2eNode, E2eNode]
    expect(a.config.p2p.bootstrap).toEqual([])
    expect(b.config.p2p.bootstrap).toEqual([a.address()])
    await waitFor(() => b.node.p2p.knownPeers().some((p) => p.id === a.peerId && p.lastConnected !== undefined), {
      message: 'b to remember a'
    })

    await b.restart((config) => { config.p2p.bootstrap = [] })
    const file = await readPeersFile(b.dataDir) as { peers: Array<{ id: string, addrs: string[] }> }
    expect(file.peers.map((p) => p.id)).toEqual([a.peerId])
    await waitFor(() => connected(b, a), { message: 'b to reconnect to a from its peers file' })
    const { body: peers } = await b.api().request<Array<{ peerId: string, via?: string, connectedSince?: string }>>('GET', '/v1/peers')
    expect(peers).toEqual([expect.objectContaining({ peerId: a.peerId, via: 'remembered', connectedSince: expect.any(String) })])
  })
})
