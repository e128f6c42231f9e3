/**
 * Several nodes of one community as real `cdgossip start` processes, one SIGKILLed under load:
 * publishing goes on through the other node and the remote holds every acknowledged event once;
 * the webhook sink runs on one node at a time and moves to the other when it dies.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { dataDirPaths, initDataDir } from '../../src/data-dir.js'
import { loadOrCreateIdentity } from '../../src/signing/index.js'
import { Receiver } from '../delivery/fixtures.js'
import { BUILT, allViews, startChild } from '../helpers/child-node.js'
import type { RunningNode } from '../helpers/child-node.js'
import { createRootKey, writeCommunityChain } from '../helpers/community.js'
import { E2E_NETWORK, artifactPublished, startNodes, tempDataDir, waitFor } from '../helpers/nodes.js'
import type { RootKey } from '../helpers/community.js'
import { ApiClient } from '../../src/cli/client.js'
import { runCli } from '../cli/cli-helpers.js'

const HEARTBEAT_MS = 200

interface Lease { holding: boolean, holder?: string, live: string[], handled: Record<string, number> }

/** A data dir with its identity made now, so the manifest can list the node before it starts. */
async function preparedDir (): Promise<{ dir: string, peerId: string }> {
  const dir = await tempDataDir('cdgossip-community-')
  await initDataDir(dir)
  return { dir, peerId: (await loadOrCreateIdentity(dataDirPaths(dir).identity)).peerId }
}

/** The node's config file (JSON is YAML): its community, quick heartbeats, and what `extra` adds. */
function writeConfig (dir: string, root: RootKey, nodes: string[], extra: Record<string, unknown>): void {
  const manifest = writeCommunityChain(dir, root, nodes)
  fs.writeFileSync(path.join(dir, 'config.yaml'), JSON.stringify({
    network: E2E_NETWORK,
    community: { manifest, heartbeatMs: HEARTBEAT_MS },
    ...extra
  }))
}

async function lease (api: ApiClient): Promise<Lease | undefined> {
  return (await api.request<{ community?: { lease?: Lease } }>('GET', '/v1/node')).body.community?.lease
}

async function ids (api: ApiClient): Promise<string[]> {
  return (await allViews(api)).map(v => v.cdevent.context.id)
}

/**
 * The CLI's client over the community's nodes, in this order (what `--api-url a --api-url b`
 * makes): it moves to the next node when one does not answer. Both nodes take one API token.
 */
function client (urls: string[], token: string): ApiClient {
  return new ApiClient({ baseUrl: urls, token, timeoutMs: 10_000 })
}

/** Publishes one event, as `cdgossip publish` does (idempotent by (source, id): safe to repeat on the next node); the node that acknowledged it. */
async function publish (api: ApiClient, event: unknown): Promise<string | undefined> {
  const { status } = await api.request('POST', '/v1/events', { json: event, idempotent: true })
  // the URL that answered: the client's current one
  return status === 202 ? api.baseUrl : undefined
}

/** One API token for every node of the community, so one client reaches each of them. */
function shareToken (from: string, to: string): string {
  const token = fs.readFileSync(path.join(from, 'api-token'), 'utf8')
  fs.writeFileSync(path.join(to, 'api-token'), token, { mode: 0o600 })
  return token.trim()
}

describe.skipIf(!BUILT)('a community of two node processes', () => {
  it('a node SIGKILLed mid-burst: publishing goes on through the other, the remote holds every acknowledged event once, the restarted node catches up', async () => {
    const root = await createRootKey()
    const first = await preparedDir()
    const [second, remote] = await startNodes(2, {
      topology: 'none',
      names: ['onap-2', 'remote'],
      configure: (config, { index, peerIds }) => {
        if (index === 0) {
          config.community.manifest = writeCommunityChain(config.dataDir, root, [first.peerId, peerIds[0] as string])
          config.community.heartbeatMs = HEARTBEAT_MS
        } else {
          config.trust.communities = [{ community: root.id, name: 'onap', sources: ['*'] }]
          config.subscriptions = [{ classes: ['artifact.*'], start: { kind: 'beginning' } }]
        }
      }
    })
    if (second === undefined || remote === undefined) throw new Error('two nodes expected')
    writeConfig(first.dir, root, [first.peerId, second.peerId], { p2p: { heartbeatMs: 100, bootstrap: [second.address(), remote.address()] } })
    const token = shareToken(second.dataDir, first.dir)
    let node1: RunningNode = await startChild(first.dir)
    await waitFor(() => remote.node.p2p.peers().some(p => p.peerId === first.peerId) && second.node.p2p.peers().some(p => p.peerId === first.peerId),
      { timeout: 20_000, message: 'onap-1 to connect to onap-2 and the remote' })

    // the remote has the community's manifest (from either node), so it trusts both nodes
    await waitFor(async () => (await remote.api().request<{ communities: Array<{ id: string }> }>('GET', '/v1/communities')).body.communities.some(c => c.id === root.id),
      { timeout: 20_000, message: 'the remote to hold the community manifest' })

    const acknowledged: Array<{ id: string, by: string }> = []
    // the burst goes alternately to onap-1 and onap-2, each client falling back on the other node
    const to1 = client([node1.api.baseUrl, second.node.apiUrl], token)
    const to2 = client([second.node.apiUrl, node1.api.baseUrl], token)
    for (let i = 0; i < 40; i++) {
      const event = artifactPublished({ source: 'https://ci.onap.example/job/burst', id: `burst-${i}` })
      if (i === 15) {
        // killed while a publish to it is on its way
        const inFlight = publish(to1, event)
        node1.child.kill('SIGKILL')
        const by = await inFlight
        if (by !== undefined) acknowledged.push({ id: `burst-${i}`, by })
        continue
      }
      const by = await publish(i % 2 === 0 ? to1 : to2, event)
      if (by !== undefined) acknowledged.push({ id: `burst-${i}`, by })
    }
    expect(acknowledged).toHaveLength(40)
    const all = acknowledged.map(a => a.id)
    const missingAt = async (api: ApiClient, wanted: string[]): Promise<string[]> => {
      const held = new Set(await ids(api))
      return wanted.filter(id => !held.has(id))
    }

    // while onap-1 is down, everything onap-2 acknowledged reaches the remote (what onap-1
    // acknowledged in the instant before the SIGKILL may not have left it: it is on onap-1's disk)
    const bySecond = acknowledged.filter(a => a.by === second.node.apiUrl).map(a => a.id)
    expect(bySecond.length).toBeGreaterThanOrEqual(25)
    await expect.poll(async () => await missingAt(remote.api(), bySecond), { timeout: 30_000, interval: 200 }).toEqual([])

    // onap-1 back: it catches up from onap-2 and hands over what it alone held, so the remote and
    // both nodes hold the whole history, each event once
    node1 = await startChild(first.dir)
    const restarted = node1
    await expect.poll(async () => await missingAt(restarted.api, all), { timeout: 30_000, interval: 200 }).toEqual([])
    await expect.poll(async () => await missingAt(remote.api(), all), { timeout: 30_000, interval: 200 }).toEqual([])
    const atRemote = await ids(remote.api())
    for (const id of all) expect(atRemote.filter(x => x === id), id).toHaveLength(1)
    expect(await missingAt(second.api(), all)).toEqual([])
  })

  it('a webhook sink fires once per event, on the lease holder; after the holder is SIGKILLed the other node delivers the next events, nothing twice', async () => {
    const hook = await Receiver.start()
    onTestFinished(async () => { await hook.close() })
    const root = await createRootKey()
    const a = await preparedDir()
    const b = await preparedDir()
    const subscriptions = [{ id: 'deploy', classes: ['artifact.*'], sink: { type: 'webhook', url: hook.url } }]
    writeConfig(a.dir, root, [a.peerId, b.peerId], { subscriptions })
    const nodeA = await startChild(a.dir)
    const addrA = (await nodeA.api.request<{ listenAddresses: string[] }>('GET', '/v1/node')).body.listenAddresses.find(x => x.includes('/ip4/127.0.0.1/'))
    writeConfig(b.dir, root, [a.peerId, b.peerId], { subscriptions, p2p: { bootstrap: [`${addrA ?? ''}/p2p/${a.peerId}`] } })
    const nodeB = await startChild(b.dir)
    const nodes = [{ peerId: a.peerId, node: nodeA }, { peerId: b.peerId, node: nodeB }]

    let holder = nodes[0] as typeof nodes[number]
    await waitFor(async () => {
      const [la, lb] = [await lease(nodeA.api), await lease(nodeB.api)]
      if (la === undefined || lb === undefined || la.holding === lb.holding || la.live.length === 0 || lb.live.length === 0) return false
      holder = la.holding ? nodes[0] as typeof holder : nodes[1] as typeof holder
      return true
    }, { timeout: 20_000, message: 'one node to hold the sink lease and the other to know it' })
    const standby = holder === nodes[0] ? nodes[1] as typeof holder : nodes[0] as typeof holder
    const dirOf = (peerId: string): string => peerId === a.peerId ? a.dir : b.dir
    // what `cdgossip status` tells the operator of each node about the lease
    const leaseRows = async (node: typeof holder): Promise<string[]> => {
      const token = fs.readFileSync(path.join(dirOf(node.peerId), 'api-token'), 'utf8').trim()
      const { code, stdout } = await runCli(['status', '--api-url', node.node.api.baseUrl, '--token', token])
      expect(code).toBe(0)
      return stdout.split('\n').filter(line => /^(sink lease|lease holder|live siblings) /.test(line)).map(line => line.replace(/\s+/g, ' ').trim())
    }
    expect(await leaseRows(holder)).toEqual(['sink lease held here: runs webhooks and triggers', 'live siblings 1 of 1'])
    expect(await leaseRows(standby)).toEqual(['sink lease standby: another node holds it', `lease holder ${holder.peerId}`, 'live siblings 1 of 1'])

    const before = ['lease-1', 'lease-2', 'lease-3']
    for (const id of before) expect(await publish(standby.node.api, artifactPublished({ id }))).toBeDefined()
    await waitFor(() => hook.requests.length >= 3, { timeout: 20_000, message: 'the holder to deliver the first events' })
    // the standby has heard what the holder delivered (quiet takeover)
    await waitFor(async () => ((await lease(standby.node.api))?.handled.deploy ?? 0) >= 3, { timeout: 20_000, message: 'the standby to learn the holder\'s progress' })

    holder.node.child.kill('SIGKILL')
    await holder.node.exited
    await waitFor(async () => (await lease(standby.node.api))?.holding === true, { timeout: 20_000, message: 'the standby to take the lease over' })
    expect(await leaseRows(standby)).toEqual(['sink lease held here: runs webhooks and triggers', 'live siblings 0 of 1'])

    const after = ['lease-4', 'lease-5', 'lease-6']
    for (const id of after) expect(await publish(standby.node.api, artifactPublished({ id }))).toBeDefined()
    await waitFor(async () => ((await lease(standby.node.api))?.handled.deploy ?? 0) >= 6, { timeout: 20_000, message: 'the new holder to handle the next events' })
    const delivered = hook.requests.map(r => String(r.headers['ce-id']))
    expect(delivered.sort()).toEqual([...before, ...after].sort())
  })
})
