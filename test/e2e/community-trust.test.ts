import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { addNode, genesisChain, revokeNode, rotateRoot, type VerifiedChain } from '../../src/community/index.js'
import { communityTopic } from '../../src/p2p/index.js'
import { ApiError } from '../../src/cli/client.js'
import type { NodeInfo } from '../../src/api/types.js'
import { allEvents, artifactPublished, E2E_NETWORK, publishAll, startNodes, tempDataDir, waitFor } from '../helpers/nodes.js'
import { writeCommunityChain } from '../helpers/community.js'
import { BUILT, runCli } from '../cli/cli-helpers.js'
import type { E2eNode } from '../helpers/nodes.js'

const SOURCE = 'https://jenkins.onap.example/job'

interface Info extends NodeInfo { refusals: { reasons: Record<string, number> } }
interface Community { id: string, version: number, rootKey: string, nodes: Array<{ peerId: string }>, revoked: Array<{ peerId: string, since: string }> }

async function rootKey (): Promise<{ key: PrivateKey, id: string }> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key).toString() }
}

/** The community `onap` of root key `root`, listing `nodes` (one version per node added). */
function community (root: PrivateKey, nodes: string[]): VerifiedChain {
  return nodes.reduce((held, peerId) => addNode(held, root, { peerId }), genesisChain('onap', root))
}

async function publishChain (node: E2eNode, held: VerifiedChain | { chain: unknown[] }): Promise<{ id: string, version: number, status: string }> {
  return (await node.api().request<{ id: string, version: number, status: string }>('POST', '/v1/community/manifests', { json: { chain: held.chain } })).body
}

async function refusedWith (node: E2eNode, held: { chain: unknown[] }): Promise<ApiError> {
  const err = await publishChain(node, held).then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ApiError)
  return err as ApiError
}

async function info (node: E2eNode): Promise<Info> {
  return (await node.api().request<Info>('GET', '/v1/node')).body
}

async function heldVersion (node: E2eNode): Promise<number | undefined> {
  return (await node.api().request<{ communities: Community[] }>('GET', '/v1/communities')).body.communities[0]?.version
}

async function originsAt (node: E2eNode): Promise<string[]> {
  return (await allEvents(node.node)).map(stored => stored.event.origin)
}

/** r (the remote) in the middle; the community's nodes and an outsider each connect to it. */
async function remoteAndNodes (root: string, names: string[]): Promise<E2eNode[]> {
  return await startNodes(names.length + 1, {
    names: ['r', ...names],
    topology: 'star',
    configure: (config, { name }) => {
      config.p2p.targetConnections = 1
      if (name === 'r') {
        config.trust.communities = [{ community: root, name: 'onap', sources: [SOURCE] }]
        config.subscriptions = [{ classes: ['artifact.*'] }]
      }
    },
    meshClasses: ['artifact.published']
  })
}

/** gossip on the control topic from `from` reaches `to` once `from` knows `to` joined it */
async function controlTopicReady (from: E2eNode, to: E2eNode): Promise<void> {
  const topic = communityTopic(E2E_NETWORK)
  await waitFor(() => from.node.p2p.libp2p.services.pubsub.getSubscribers(topic).map(String).includes(to.peerId), { message: `${from.name} to see ${to.name} on the control topic` })
}

describe('trust by community root key', () => {
  it('hands a node\'s own chain (config community.manifest) to a peer that trusts the community, without any API call', async () => {
    const root = await rootKey()
    const [r, n1] = await startNodes(2, {
      names: ['r', 'n1'],
      topology: 'star',
      configure: (config, { name, peerIds }) => {
        config.p2p.targetConnections = 1
        if (name === 'r') {
          config.trust.communities = [{ community: root.id, name: 'onap', sources: [SOURCE] }]
          config.subscriptions = [{ classes: ['artifact.*'] }]
        } else {
          config.community.manifest = writeCommunityChain(config.dataDir, root, [peerIds[1] as string])
        }
      },
      meshClasses: ['artifact.published']
    }) as [E2eNode, E2eNode]
    await waitFor(async () => await heldVersion(r) === 1, { message: 'r to get n1\'s chain by the exchange on connect or the control topic' })
    await publishAll(n1.node, [artifactPublished({ source: `${SOURCE}/a` })])
    await waitFor(async () => (await originsAt(r)).includes(n1.peerId), { message: 'r to keep n1\'s record' })
    expect((await n1.api().request<{ communities: Array<{ own: boolean }> }>('GET', '/v1/communities')).body.communities).toMatchObject([{ own: true }])

    // kept across a restart, before any peer hands it over again
    await r.restart(config => { config.p2p.bootstrap = [] })
    expect(await heldVersion(r)).toBe(1)
  })

  it('trusts both listed nodes, refuses an unlisted one, and trusts a node a newer manifest adds, without a trust change', async () => {
    const root = await rootKey()
    const [r, n1, n2, n3] = await remoteAndNodes(root.id, ['n1', 'n2', 'n3']) as [E2eNode, E2eNode, E2eNode, E2eNode]
    const v3 = community(root.key, [n1.peerId, n2.peerId])
    expect(await publishChain(r, v3)).toEqual({ id: root.id, version: 3, status: 'accepted' })
    // n1 publishes its own community's chain: held as its own, gossiped on the control topic
    expect(await publishChain(n1, v3)).toMatchObject({ version: 3, status: 'accepted' })

    await publishAll(n1.node, [artifactPublished({ source: `${SOURCE}/a` })])
    await publishAll(n2.node, [artifactPublished({ source: `${SOURCE}/b` })])
    await publishAll(n3.node, [artifactPublished({ source: `${SOURCE}/c` })])
    await waitFor(async () => (await originsAt(r)).length === 2 && (await info(r)).refusals.reasons['unknown-signer'] === 1, { message: 'r to keep n1 and n2 and refuse n3' })
    expect(new Set(await originsAt(r))).toEqual(new Set([n1.peerId, n2.peerId]))
    expect((await info(r)).counters['received.gossip.refused']).toBe(1)

    // the root key adds n3; n1 gets it over the API and gossips it; r needs no trust change
    await controlTopicReady(n1, r)
    const v4 = addNode(v3, root.key, { peerId: n3.peerId })
    expect(await publishChain(n1, v4)).toMatchObject({ version: 4, status: 'accepted' })
    await waitFor(async () => await heldVersion(r) === 4, { message: 'r to take version 4 from the control topic' })
    expect((await info(r)).counters['community.manifests.accepted.gossip']).toBe(1)

    // n3's refused record comes back by sync (the manifest change re-judges refusals), new ones flow
    await publishAll(n3.node, [artifactPublished({ source: `${SOURCE}/c` })])
    await waitFor(async () => (await originsAt(r)).filter(o => o === n3.peerId).length === 2, { message: 'r to hold both of n3\'s records' })
    expect((await r.api().request<Array<{ peerId: string, name?: string }>>('GET', '/v1/peers')).body.find(p => p.peerId === n3.peerId)?.name).toBe('onap')
  })

  it('refuses a revoked node\'s new records by policy within one sync round, keeps the other node flowing, flags the old records', async () => {
    const root = await rootKey()
    const [r, n1, n2] = await remoteAndNodes(root.id, ['n1', 'n2']) as [E2eNode, E2eNode, E2eNode]
    const v3 = community(root.key, [n1.peerId, n2.peerId])
    await publishChain(r, v3)
    await publishChain(n1, v3)
    await publishAll(n2.node, [artifactPublished({ source: `${SOURCE}/b` }), artifactPublished({ source: `${SOURCE}/b` })])
    await waitFor(async () => (await originsAt(r)).length === 2, { message: 'r to keep n2\'s first two records' })

    await controlTopicReady(n1, r)
    const v4 = revokeNode(v3, root.key, n2.peerId, 'key leaked')
    await publishChain(n1, v4)
    await waitFor(async () => await heldVersion(r) === 4, { message: 'r to learn of the revocation from the control topic' })

    await publishAll(n2.node, Array.from({ length: 3 }, () => artifactPublished({ source: `${SOURCE}/b` })))
    await r.node.sync.syncNow()
    await waitFor(async () => (await info(r)).refusals.reasons['revoked-signer'] === 3, { message: 'r to refuse n2\'s three new records as revoked-signer' })
    const after = await info(r)
    expect(Object.keys(after.counters).filter(k => k.startsWith('gossip.received.reject'))).toEqual([])
    expect(r.node.p2p.libp2p.services.pubsub.score.score(n2.peerId)).toBeGreaterThanOrEqual(0)

    // the other node's records keep flowing
    await publishAll(n1.node, [artifactPublished({ source: `${SOURCE}/a` })])
    await waitFor(async () => (await originsAt(r)).includes(n1.peerId), { message: 'r to keep n1\'s record' })

    // n2's records received before are kept and flagged; n1's are not
    const { body } = await r.api().request<{ events: Array<{ origin: string, signerRevoked?: { since: string } }> }>('GET', '/v1/events')
    const revokedSince = ((await r.api().request<{ communities: Community[] }>('GET', '/v1/communities')).body.communities[0]?.revoked ?? [])[0]?.since
    expect(revokedSince).toBeDefined()
    expect(body.events.filter(e => e.origin === n2.peerId).map(e => e.signerRevoked)).toEqual([{ since: revokedSince }, { since: revokedSince }])
    expect(body.events.find(e => e.origin === n1.peerId)?.signerRevoked).toBeUndefined()
    // and in the SSE stream
    const controller = new AbortController()
    const stream = await r.node.openStream({ query: { origin: n2.peerId }, last: 1, signal: controller.signal })
    let frame = ''
    for await (const chunk of stream) {
      if (chunk.includes('event: cdevent')) { frame = chunk; break }
    }
    controller.abort()
    expect(frame).toContain(`"signerRevoked":{"since":"${revokedSince ?? ''}"}`)
  })

  it('follows a root key rotation, then refuses a chain signed by the old root alone; refuses stale and forged chains over REST and gossip', async () => {
    const oldRoot = await rootKey()
    const newRoot = await rootKey()
    const [r, n1, n2] = await remoteAndNodes(oldRoot.id, ['n1', 'n2']) as [E2eNode, E2eNode, E2eNode]
    const v2 = community(oldRoot.key, [n1.peerId])
    await publishChain(r, v2)
    await publishChain(n1, v2)

    // signed by the old and the new root key: r follows without a trust change
    const v3 = rotateRoot(v2, oldRoot.key, newRoot.key)
    await controlTopicReady(n1, r)
    await publishChain(n1, v3)
    await waitFor(async () => await heldVersion(r) === 3, { message: 'r to take the rotation from the control topic' })
    await publishAll(n1.node, [artifactPublished({ source: `${SOURCE}/a` })])
    await waitFor(async () => (await originsAt(r)).includes(n1.peerId), { message: 'r to keep trusting n1 after the rotation' })

    // the retired root alone signs versions 3 and 4 adding n2: a fork r refuses over REST and gossip
    const forked = addNode(addNode(v2, oldRoot.key, { peerId: n2.peerId }), oldRoot.key, { peerId: n2.peerId, sources: [SOURCE] })
    expect(forked.manifest.version).toBe(4)
    expect(await refusedWith(r, forked)).toMatchObject({ statusCode: 400, code: 'CDG_INVALID_MANIFEST' })
    await n1.node.p2p.publishControl(communityTopic(E2E_NETWORK), new TextEncoder().encode(JSON.stringify({ chain: forked.chain })))
    await waitFor(async () => (await info(r)).counters['community.manifests.forked.gossip'] === 1, { message: 'r to refuse the fork from gossip' })
    expect(await heldVersion(r)).toBe(3)
    await publishAll(n2.node, [artifactPublished({ source: `${SOURCE}/b` })])
    await waitFor(async () => (await info(r)).refusals.reasons['unknown-signer'] === 1, { message: 'r to refuse n2, which only the fork lists' })

    // stale: 409; forged (payload of one manifest, signatures of another): 400, Rejected on gossip
    expect(await refusedWith(r, v2)).toMatchObject({ statusCode: 409, code: 'CDG_STALE_MANIFEST' })
    const [genesis, rotation] = v3.chain as [VerifiedChain['chain'][number], VerifiedChain['chain'][number]]
    const forged = { chain: [genesis, { payload: forked.chain.at(-1)?.payload, signatures: rotation.signatures }] }
    expect(await refusedWith(r, forged)).toMatchObject({ statusCode: 400, code: 'CDG_INVALID_MANIFEST' })
    await n1.node.p2p.publishControl(communityTopic(E2E_NETWORK), new TextEncoder().encode(JSON.stringify(forged)))
    await waitFor(async () => (await info(r)).counters['community.manifests.invalid.gossip'] === 1, { message: 'r to refuse the forged chain from gossip' })
    expect((await info(r)).counters['community.manifests.stale.api']).toBe(1)
    expect(await heldVersion(r)).toBe(3)
  })

  it.skipIf(!BUILT)('cdgossip community publish hands the root key holder\'s chain to a running node', async () => {
    const [n1] = await startNodes(1, { names: ['n1'] }) as [E2eNode]
    const key = path.join(await tempDataDir(), 'root.key')
    expect((await runCli(['community', 'init', '--name', 'onap', '--out', key])).code).toBe(0)
    expect((await runCli(['community', 'add-node', '--key', key, '--peer-id', n1.peerId])).code).toBe(0)
    const api = ['--api-url', n1.node.apiUrl, '--token', n1.token]
    const published = await runCli(['community', 'publish', '--key', key, ...api])
    expect(published.code, published.stderr).toBe(0)
    expect((await n1.api().request<{ communities: Array<{ version: number, own: boolean }> }>('GET', '/v1/communities')).body.communities).toMatchObject([{ version: 2, own: true }])
    // publishing the same version again is done, not an error
    const again = await runCli(['community', 'publish', '--key', key, ...api])
    expect(again.code, again.stderr).toBe(0)
  })
})
