/**
 * The README's three-terminal example, as a user runs it: `cdgossip start` processes over TCP,
 * tekton a hub with `--relay '*'` and no trust entries, onap and opnfv bootstrapped to tekton only;
 * trust, subscribe and publish with the CLI commands the README shows.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { BUILT, SKIP_REASON, makeTempDir, removeDir, runCli, startNode, waitFor } from '../cli/cli-helpers.js'
import type { CliNode } from '../cli/cli-helpers.js'

interface Info {
  peerId: string
  counters: Record<string, number>
  store: { events: number }
  peerStats: Array<{ peerId: string, received: number, relayed: number, rejected: number, refused: number, gossipScore?: number }>
}

async function info (node: CliNode): Promise<Info> {
  return (await node.api().request<Info>('GET', '/v1/node')).body
}

describe.skipIf(!BUILT)(`the README hub example ${BUILT ? '' : SKIP_REASON}`, () => {
  it('carries onap\'s artifact to opnfv through tekton, which trusts nobody, stores nothing and keeps onap\'s standing', async () => {
    const root = await makeTempDir('cdgossip-hub-')
    const nodes: CliNode[] = []
    onTestFinished(async () => {
      for (const node of nodes.reverse()) await node.stop()
      await removeDir(root)
    })
    const dir = (name: string): string => path.join(root, name)

    // terminal 1: tekton, the hub; terminals 2 and 3: onap and opnfv, bootstrapping to tekton only
    const tekton = await startNode(dir('tekton'), ['--network', 'demo', '--relay', '*'])
    nodes.push(tekton)
    const hub = tekton.p2pAddress()
    const onap = await startNode(dir('onap'), ['--network', 'demo', '--peer', hub])
    nodes.push(onap)
    const opnfv = await startNode(dir('opnfv'), ['--network', 'demo', '--peer', hub])
    nodes.push(opnfv)
    const onapId = (await info(onap)).peerId
    const tektonId = (await info(tekton)).peerId

    // fourth terminal: opnfv trusts onap for onap's sources and wants its artifacts
    const trusted = await runCli(['trust', 'add', ...opnfv.args, '--peer-id', onapId, '--name', 'onap', '--source', 'https://jenkins.onap.org'])
    expect(trusted.code, trusted.stderr).toBe(0)
    const subscribed = await runCli(['subscribe', ...opnfv.args, '--class', 'artifact.*', '--from', 'beginning'])
    expect(subscribed.code, subscribed.stderr).toBe(0)
    await waitFor(async () => {
      const { body } = await opnfv.api().request<Array<{ peerId: string, topics: string[] }>>('GET', '/v1/peers')
      return body.some(p => p.peerId === tektonId && p.topics.includes('cdgossip/demo/artifact.published'))
    }, { message: 'opnfv to see tekton on the artifact topic' })

    // onap publishes
    const file = path.join(root, 'artifact-published.json')
    const id = `onap-${Date.now()}`
    await fsp.writeFile(file, JSON.stringify({
      context: { specversion: '0.5.1', id, source: 'https://jenkins.onap.org/job/so-release', type: 'dev.cdevents.artifact.published.0.3.0', timestamp: new Date().toISOString() },
      subject: { id: 'pkg:docker/onap/so/api-handler-infra@1.15.3', source: 'https://jenkins.onap.org/job/so-release', content: { sbom: { uri: 'https://nexus3.onap.org/sbom/so-1.15.3.spdx.json' }, user: 'onap-release' } }
    }))
    const published = await runCli(['publish', ...onap.args, file])
    expect(published.code, published.stderr).toBe(0)

    // opnfv has it, by gossip through the hub (onap and opnfv share no connection, and tekton holds nothing to sync from)
    await waitFor(async () => (await info(opnfv)).counters['received.gossip.stored'] === 1, { timeout: 15_000, message: 'opnfv to store onap\'s artifact by gossip' })
    const events = await runCli(['events', ...opnfv.args, '--json'])
    expect(events.code).toBe(0)
    expect(events.stdout).toContain(id)
    expect((await info(opnfv)).counters['received.sync.stored'] ?? 0).toBe(0)

    // the hub verified and forwarded it, stored nothing, and did not count it against onap
    const atHub = await info(tekton)
    expect(atHub.store.events).toBe(0)
    expect(atHub.counters['gossip.received.relayed']).toBeGreaterThanOrEqual(1)
    expect(Object.keys(atHub.counters).filter(k => k.startsWith('gossip.received.reject') || k.startsWith('gossip.received.ignore'))).toEqual([])
    const fromOnap = atHub.peerStats.find(p => p.peerId === onapId)
    expect(fromOnap).toMatchObject({ rejected: 0, refused: 0 })
    expect(fromOnap?.relayed).toBeGreaterThanOrEqual(1)
    expect(fromOnap?.gossipScore).toBeGreaterThanOrEqual(0)

    // `status` at the hub shows the same per peer
    const status = await runCli(['status', ...tekton.args])
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toContain('Records per peer')
    const onapLine = status.stdout.split('\n').find(l => l.includes(onapId))
    expect(onapLine).toMatch(/^\(untrusted\)\s+\S+\s+\d+\s+0\s+[1-9]\d*\s+0\s+0\s+\d/)
  })
})
