import { Writable } from 'node:stream'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { decodeAnswer, encodeAnswer, MAX_EXCHANGE_PEERS } from '../../src/p2p/peer-exchange.js'
import { KnownPeers, MAX_ADDRS_PER_PEER } from '../../src/p2p/known-peers.js'
import { record, sha256Hex, startP2PNode, waitFor, waitForMesh } from '../helpers/p2p.js'
import type { TestNode } from '../helpers/p2p.js'
import type { Logger } from 'pino'

const CLASS = 'artifact.published'

function capture (): { log: Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const log = pino({ level: 'debug' }, new Writable({
    write (chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>)
      done()
    }
  }))
  return { log, lines }
}

function connectedTo (node: TestNode, other: TestNode): boolean {
  return node.service.peers().some((p) => p.peerId === other.service.peerId)
}

describe('peer exchange', () => {
  it('six nodes bootstrapped only to a hub find each other, and keep gossiping once the hub is gone', async () => {
    const hub = await startP2PNode({ name: 'hub', classes: [CLASS] })
    const hubAddress = `${hub.service.multiaddrs()[0] as string}`
    const leaves: TestNode[] = []
    for (let i = 0; i < 6; i++) leaves.push(await startP2PNode({ name: `leaf${i}`, classes: [CLASS], bootstrap: [hubAddress] }))
    await waitFor(() => leaves.every((a) => leaves.every((b) => a === b || connectedTo(a, b))), {
      timeout: 20_000,
      message: 'every leaf to connect to every other leaf'
    })
    for (const leaf of leaves) {
      const viaHub = leaf.service.peers().find((p) => p.peerId === hub.service.peerId)
      expect(viaHub?.via).toBe('bootstrap')
      const others = leaf.service.peers().filter((p) => p.peerId !== hub.service.peerId)
      expect(others.every((p) => p.via === 'discovery' || p.via === 'inbound'), JSON.stringify(others)).toBe(true)
    }

    await hub.service.stop()
    await waitFor(() => leaves.every((l) => !connectedTo(l, hub)), { message: 'the leaves to see the hub go' })
    await waitForMesh(leaves, CLASS)
    const digests = await Promise.all(leaves.map(async (leaf) => {
      const bytes = record(`from ${leaf.name}`)
      await leaf.service.publish(CLASS, bytes)
      return sha256Hex(bytes)
    }))
    await waitFor(() => leaves.every((leaf, i) => digests.every((d, j) => i === j || leaf.records.stored.has(d))), {
      message: 'every leaf to store every other leaf\'s record'
    })
  })
})
