import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { pino } from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { dataDirPaths, readPeersFile, writePeersFile } from '../../src/data-dir.js'
import { MAX_INBOUND_DATA_LENGTH } from '../../src/p2p/index.js'
import { decodeAnswer, encodeAnswer, MAX_EXCHANGE_PEERS, peerExchangeProtocol, requestPeers } from '../../src/p2p/peer-exchange.js'
import { KnownPeers, MAX_ADDRS_PER_PEER } from '../../src/p2p/known-peers.js'
import { record, sha256Hex, startP2PNode, TEST_NETWORK, waitFor, waitForMesh } from '../helpers/p2p.js'
import type { TestNode } from '../helpers/p2p.js'
import type { Logger } from 'pino'

const CLASS = 'artifact.published'

function capture (): { log: Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const log = pino({ level: 'trace' }, new Writable({
    write (chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>)
      done()
    }
  }))
  return { log, lines }
}

function warns (lines: Array<Record<string, unknown>>, msg: string): Array<Record<string, unknown>> {
  return lines.filter((l) => l.level === 40 && typeof l.msg === 'string' && l.msg.startsWith(msg))
}

function connectedTo (node: TestNode, other: TestNode): boolean {
  return node.service.peers().some((p) => p.peerId === other.service.peerId)
}

describe('peer exchange', () => {
  it('six nodes bootstrapped only to a hub find each other, and keep gossiping once the hub is gone', async () => {
    const hub = await startP2PNode({ name: 'hub', classes: [CLASS] })
    const hubAddress = `${hub.service.multiaddrs()[0] as string}`
    const leaves: TestNode[] = []
    const { log, lines } = capture()
    for (let i = 0; i < 6; i++) leaves.push(await startP2PNode({ name: `leaf${i}`, classes: [CLASS], bootstrap: [hubAddress], log: log.child({ leaf: i }) }))
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
    // generous: six nodes re-forming their mesh on a loaded machine
    await waitForMesh(leaves, CLASS, { timeout: 20_000 }).catch((err) => {
      console.log(lines.filter((l) => Number(l.level) >= 20 && l.msg !== 'peer exchange answered').map((l) => JSON.stringify(l).slice(0, 300)).join('\n'))
      for (const l of leaves) console.log(l.name, l.service.peers().length, l.service.subscribers(CLASS).length, l.service.meshPeers(CLASS).length, JSON.stringify(l.service.peers().map((p) => l.service.libp2p.services.pubsub.getScore(p.peerId))))
      throw err
    })
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

describe('connection failures are logged at warn', () => {
  it('a bootstrap dial that fails, with the address and the error, once per peer and reason', async () => {
    const { log, lines } = capture()
    const absent = await startP2PNode({ name: 'absent' })
    const address = absent.service.multiaddrs()[0] as string
    await absent.service.stop()
    await startP2PNode({ name: 'node', bootstrap: [address], log })
    await waitFor(() => warns(lines, 'bootstrap dial failed').length > 0, { message: 'a bootstrap warning' })
    const [line] = warns(lines, 'bootstrap dial failed')
    expect(line?.address).toBe(address)
    expect(String(line?.err)).toMatch(/ECONNREFUSED|refused/i)
    // the watchdog redials every sweep (500 ms here): repeats go to debug, not warn
    await waitFor(() => lines.filter((l) => l.level === 20 && l.repeated === true && l.address === address).length >= 2, {
      message: 'two more failed redials'
    })
    expect(warns(lines, 'bootstrap dial failed')).toHaveLength(1)
  })

  it('a bootstrap entry whose /p2p/<id> is not the node listening there names who answered', async () => {
    const { log, lines } = capture()
    const real = await startP2PNode({ name: 'real' })
    const wrongId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const tcp = (real.service.multiaddrs()[0] as string).replace(/\/p2p\/.*$/, '')
    const address = `${tcp}/p2p/${wrongId}`
    const node = await startP2PNode({ name: 'node', bootstrap: [address], log })
    await waitFor(() => warns(lines, 'bootstrap address reached a different node').length > 0, { message: 'a wrong-peer warning' })
    const [line] = warns(lines, 'bootstrap address reached a different node')
    expect(line).toMatchObject({ address, expected: wrongId, answeredAs: real.service.peerId })
    expect(warns(lines, 'bootstrap dial failed')).toEqual([])
    expect(connectedTo(node, real)).toBe(false)
  })

  it('a second node running with a copy of this node\'s identity key', async () => {
    const { log, lines } = capture()
    const hub = await startP2PNode({ name: 'hub' })
    const hubAddress = hub.service.multiaddrs()[0] as string
    const key = await generateKeyPair('Ed25519')
    const original = await startP2PNode({ name: 'original', privateKey: key, bootstrap: [hubAddress], log })
    await waitFor(() => connectedTo(original, hub), { message: 'the original to reach the hub' })
    const copy = await startP2PNode({ name: 'copy', privateKey: key, bootstrap: [hubAddress] })
    expect(copy.service.peerId).toBe(original.service.peerId)
    await waitFor(() => warns(lines, 'another node runs with this node\'s identity key').length > 0, {
      message: 'a copied-identity warning at the original'
    }).catch((err) => { console.log(lines.map((l) => JSON.stringify(l)).join('\n')); throw err })
    const [line] = warns(lines, 'another node runs with this node\'s identity key')
    expect(line?.reportedBy).toBe(hub.service.peerId)
    const copyAddrs = copy.service.multiaddrs().map((a) => a.replace(/\/p2p\/.*$/, ''))
    expect(line?.addresses).toEqual(expect.arrayContaining([copyAddrs[0]]))
  })

  it('a bootstrap entry with this node\'s own peer ID: silent at its own address, a warning elsewhere', async () => {
    const { log, lines } = capture()
    const key = await generateKeyPair('Ed25519')
    const id = peerIdFromPrivateKey(key).toString()
    const elsewhere = `/ip4/127.0.0.1/tcp/1/p2p/${id}`
    const first = await startP2PNode({ name: 'first', privateKey: key, log })
    const own = first.service.multiaddrs()[0] as string
    const port = Number(/\/tcp\/(\d+)/.exec(own)?.[1])
    await first.service.stop()
    await startP2PNode({ name: 'again', privateKey: key, listen: [`/ip4/127.0.0.1/tcp/${port}`], bootstrap: [own, elsewhere], log })
    const found = warns(lines, 'bootstrap entry carries this node\'s own peer ID')
    expect(found.map((l) => l.address)).toEqual([elsewhere])
  })

  it('an oversize gossip frame: counted, and warned with the peer', async () => {
    const { log, lines } = capture()
    const receiver = await startP2PNode({ name: 'receiver', classes: [CLASS], log })
    const hostile = await startP2PNode({ name: 'hostile', classes: [CLASS] })
    await hostile.service.dial(receiver.service.multiaddrs()[0] as string)
    await waitForMesh([receiver, hostile], CLASS)
    await hostile.service.libp2p.services.pubsub.publish(`cdgossip/${TEST_NETWORK}/${CLASS}`, new Uint8Array(MAX_INBOUND_DATA_LENGTH + 1))
    await waitFor(() => warns(lines, 'peer sent a gossip frame over the inbound limit').length > 0, { message: 'an oversize-frame warning' })
    expect(warns(lines, 'peer sent a gossip frame over the inbound limit')[0]?.peer).toBe(hostile.service.peerId)
    expect(receiver.service.counters().received).toEqual({ 'dropped:frame-too-large': 1 })
    expect(receiver.records.calls).toHaveLength(0)
  })
})

describe('remembered peers', () => {
  it('a corrupt peers file is a warning, and is rewritten from the peers seen', async () => {
    const { log, lines } = capture()
    const dir = await mkdtemp(join(tmpdir(), 'cdgossip-peers-'))
    onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
    await writeFile(dataDirPaths(dir).peers, '{"version": 1, "peers": [')
    const peerMemory = { load: async () => await readPeersFile(dir), save: async (c: unknown) => { await writePeersFile(dir, c) } }
    const other = await startP2PNode({ name: 'other' })
    const node = await startP2PNode({ name: 'node', bootstrap: [other.service.multiaddrs()[0] as string], log, peerMemory })
    expect(warns(lines, 'peers file unusable')).toHaveLength(1)
    expect(String(warns(lines, 'peers file unusable')[0]?.err)).toContain(dataDirPaths(dir).peers)
    await waitFor(() => node.service.knownPeers().some((p) => p.id === other.service.peerId && p.lastConnected !== undefined), {
      message: 'the node to connect to its peer and remember it'
    })
    expect(node.service.peers()[0]?.via).toBe('bootstrap')
    await node.service.stop()
    const file = await readPeersFile(dir) as { peers: Array<{ id: string }> }
    expect(file.peers.map((p) => p.id)).toEqual([other.service.peerId])
  })
})

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalIPv4 (): string | undefined {
  return Object.values(networkInterfaces()).flat().find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address
}

describe('peer exchange answers', () => {
  it.skipIf(externalIPv4() === undefined)('list loopback addresses only to a peer asking over loopback', async () => {
    const ip = externalIPv4() as string
    const hub = await startP2PNode({ name: 'hub', listen: ['/ip4/0.0.0.0/tcp/0'] })
    const port = /\/tcp\/(\d+)/.exec(hub.service.multiaddrs()[0] as string)?.[1] as string
    const local = await startP2PNode({ name: 'local', listen: ['/ip4/0.0.0.0/tcp/0'], targetConnections: 1 })
    const remote = await startP2PNode({ name: 'remote', listen: ['/ip4/0.0.0.0/tcp/0'], targetConnections: 1 })
    await local.service.dial(`/ip4/127.0.0.1/tcp/${port}/p2p/${hub.service.peerId}`)
    await remote.service.dial(`/ip4/${ip}/tcp/${port}/p2p/${hub.service.peerId}`)
    const protocol = peerExchangeProtocol(TEST_NETWORK)
    const ask = async (node: TestNode): Promise<string[]> => {
      const answer = await requestPeers(node.service.libp2p, protocol, peerIdFromString(hub.service.peerId), AbortSignal.timeout(5000))
      return answer.find((e) => e.id === (node === local ? remote : local).service.peerId)?.addrs ?? []
    }
    // each connection is answered once a second at most: keep the first full answer each side gets
    const seen = new Map<TestNode, string[]>()
    await waitFor(async () => {
      for (const node of [local, remote]) {
        if (seen.has(node)) continue
        const addrs = await ask(node)
        if (addrs.length > 0) seen.set(node, addrs)
      }
      return seen.size === 2
    }, { message: 'the hub to list each peer to the other' })
    expect(seen.get(remote)?.filter((a) => a.startsWith('/ip4/127.'))).toEqual([])
    expect(seen.get(remote)).toContain(`/ip4/${ip}/tcp/${/\/tcp\/(\d+)/.exec(local.service.multiaddrs()[0] as string)?.[1] as string}`)
    expect(seen.get(local)?.some((a) => a.startsWith('/ip4/127.'))).toBe(true)
  })
})

describe('peers file bounds', () => {
  it('keeps at most MAX_ADDRS_PER_PEER addresses per peer and drops what is not a peer ID or a multiaddr', () => {
    const self = 'not-checked'
    const known = new KnownPeers(self, 2)
    const ids = ['12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf', '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK', '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq']
    expect(known.note('garbage', ['/ip4/127.0.0.1/tcp/1'])).toBe(false)
    expect(known.note(ids[0], ['nonsense', 42])).toBe(false)
    const many = Array.from({ length: 20 }, (_, i) => `/ip4/10.0.0.${i}/tcp/4001`)
    expect(known.note(ids[0], many)).toBe(true)
    expect(known.get(ids[0] as string)?.addrs).toHaveLength(MAX_ADDRS_PER_PEER)
    known.note(ids[1], ['/ip4/10.0.0.1/tcp/4001/p2p/' + (ids[1] as string)])
    expect(known.get(ids[1] as string)?.addrs).toEqual(['/ip4/10.0.0.1/tcp/4001'])
    known.note(ids[2], ['/ip4/10.0.0.2/tcp/4001'])
    expect(known.size).toBe(2)
    expect(known.get(ids[0] as string)).toBeUndefined()
    const answer = decodeAnswer(encodeAnswer(Array.from({ length: 100 }, () => ({ id: ids[2] as string, addrs: many }))))
    expect(answer).toHaveLength(MAX_EXCHANGE_PEERS)
    expect(decodeAnswer(new TextEncoder().encode('{"peers": "no"}'))).toEqual([])
    expect(decodeAnswer(new TextEncoder().encode('not json'))).toEqual([])
  })
})
