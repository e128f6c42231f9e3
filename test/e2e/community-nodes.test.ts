/**
 * Two nodes of one community (both listed in its manifest) and a remote community trusting it by
 * its root key, in one process over TCP 127.0.0.1: the nodes replicate each other, and the same
 * tool event signed by both is one event everywhere, the second copy counted as a duplicate.
 */
import { createHmac } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createRootKey, writeCommunityChain } from '../helpers/community.js'
import { artifactPublished, publishAll, startNodes, waitFor } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'
import { fixtureBytes } from '../hooks/token-kinds-helpers.js'

const NEXUS_SECRET = 'community-nexus-secret'
const NEXUS_URL = 'https://nexus.example.org'

interface Info {
  counters: Record<string, number>
  store: { events: number }
  community?: { id: string, nodes: string[], lease?: { holding: boolean, live: string[] } }
}

async function info (node: E2eNode): Promise<Info> {
  return (await node.api().request<Info>('GET', '/v1/node')).body
}

function duplicates (counters: Record<string, number>): number {
  return Object.entries(counters).filter(([key]) => /^received\.[a-z]+\.duplicate$/.test(key)).reduce((n, [, v]) => n + v, 0)
}

/** One Nexus delivery, signed as Nexus signs it: the same bytes and delivery id each time it is sent. */
function nexusDelivery (): { body: Uint8Array, headers: Record<string, string> } {
  const body = fixtureBytes('nexus', 'component-created-npm.json')
  return {
    body,
    headers: {
      'content-type': 'application/json; charset=UTF-8',
      'x-nexus-webhook-id': 'rm:repository:component',
      'x-nexus-webhook-delivery': 'a1b2c3d4-community-delivery',
      'x-nexus-webhook-signature': createHmac('sha1', NEXUS_SECRET).update(body).digest('hex')
    }
  }
}

async function postHook (node: E2eNode, delivery: { body: Uint8Array, headers: Record<string, string> }): Promise<{ status: number, receipts: Array<{ digest: string, status: string }> }> {
  const res = await fetch(`${node.node.hooksUrl ?? ''}/hooks/nexus`, { method: 'POST', body: Buffer.from(delivery.body), headers: delivery.headers })
  return { status: res.status, receipts: ((await res.json()) as { receipts: Array<{ digest: string, status: string }> }).receipts }
}

describe('several nodes, one community', () => {
  it('replicates between the nodes; the same webhook on both is one event at each node and at the remote, the other copy a duplicate', async () => {
    const root = await createRootKey()
    const [n1, n2, remote] = await startNodes(3, {
      topology: 'none',
      names: ['onap-1', 'onap-2', 'remote'],
      configure: (config, { index, peerIds }) => {
        if (index < 2) {
          config.community.manifest = writeCommunityChain(config.dataDir, root, [peerIds[0] as string, peerIds[1] as string])
          config.community.heartbeatMs = 200
          const secretFile = path.join(config.dataDir, 'nexus.secret')
          fs.writeFileSync(secretFile, `${NEXUS_SECRET}\n`, { mode: 0o600 })
          config.hooks.listen = '127.0.0.1:0'
          config.sources = [{ name: 'nexus', kind: 'nexus', secretFile, settings: { url: NEXUS_URL } }]
        } else {
          config.trust.communities = [{ community: root.id, name: 'onap', sources: ['*'] }]
          config.subscriptions = [{ classes: ['artifact.*'], start: { kind: 'beginning' } }]
        }
      }
    }) as [E2eNode, E2eNode, E2eNode]
    expect((await info(n1)).community).toMatchObject({ id: root.id, nodes: [n1.peerId, n2.peerId] })

    // the webhook reaches both nodes before they meet: each signs its own record of it
    const delivery = nexusDelivery()
    const [at1, at2] = [await postHook(n1, delivery), await postHook(n2, delivery)]
    expect([at1.status, at2.status]).toEqual([202, 202])
    expect(at1.receipts[0]?.digest).not.toBe(at2.receipts[0]?.digest)

    await n2.node.p2p.dial(n1.address())
    await remote.node.p2p.dial(n1.address())
    await remote.node.p2p.dial(n2.address())

    // one event each, the sibling's copy counted as a duplicate (kept as an alias for sync)
    for (const node of [n1, n2, remote]) {
      await waitFor(async () => {
        const i = await info(node)
        return i.store.events === 1 && duplicates(i.counters) >= 1
      }, { timeout: 20_000, message: `${node.name} to hold one event and count the other copy as a duplicate` })
    }

    // replication: what one node publishes, the other holds (it has no subscription of its own)
    const event = artifactPublished({ source: 'https://ci.onap.example/job/release' })
    const [created] = await publishAll(n1.node, [event])
    expect(created?.status).toBe('created')
    await waitFor(async () => (await info(n2)).store.events === 2, { timeout: 20_000, message: 'onap-2 to hold what onap-1 published' })
    // published again on the other node (a client retrying there): the record it holds, nothing new signed
    const [again] = await publishAll(n2.node, [event])
    expect(again).toMatchObject({ status: 'existing', digest: created?.digest })
    await waitFor(async () => (await info(remote)).store.events === 2, { timeout: 20_000, message: 'the remote to hold both events' })
    expect((await info(remote)).counters['received.gossip.refused'] ?? 0).toBe(0)

    // sync settles: the alias fills its signer's sequence, so a round fetches nothing again
    for (const node of [n1, n2, remote]) await node.node.sync.syncNow()
    const settled = await Promise.all([n1, n2, remote].map(async node => (await info(node)).counters))
    for (const node of [n1, n2, remote]) await node.node.sync.syncNow()
    const after = await Promise.all([n1, n2, remote].map(async node => (await info(node)).counters))
    expect(after.map(c => Object.entries(c).filter(([k]) => k.startsWith('received.sync.')))).toEqual(settled.map(c => Object.entries(c).filter(([k]) => k.startsWith('received.sync.'))))
  })
})
