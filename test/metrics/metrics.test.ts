import fs from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { defaultConfig } from '../../src/config.js'
import type { NodeConfig } from '../../src/config.js'
import { initDataDir, readApiToken } from '../../src/data-dir.js'
import { createNode } from '../../src/node.js'
import type { CdgossipNode } from '../../src/node.js'
import { artifactPublished, pipelineRunFinished, startNodes, waitFor } from '../helpers/nodes.js'

interface Sample { name: string, labels: Record<string, string>, value: number }

/** A minimal parser of the Prometheus text format (no timestamps, as prom-client writes it). */
function parseMetrics (text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) })
  }
  return samples
}

/** The value of the one sample with this name whose labels include `labels`; undefined when none. */
function value (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`)
  return found[0]?.value
}

async function startNode (configure?: (config: NodeConfig) => void): Promise<{ node: CdgossipNode, token: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-metrics-'))
  onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
  await initDataDir(dir)
  const config = defaultConfig(dir)
  config.api.port = 0
  config.p2p.listen = ['/ip4/127.0.0.1/tcp/0']
  config.log.level = 'silent'
  configure?.(config)
  const node = await createNode(config)
  // registered after the dir's: vitest runs onTestFinished callbacks in reverse, so the node stops first
  onTestFinished(async () => { await node.stop() })
  await node.start()
  return { node, token: await readApiToken(dir) }
}

async function request (node: CdgossipNode, method: string, url: string, token: string | undefined, body?: unknown): Promise<Response> {
  return await fetch(`${node.apiUrl}${url}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
}

async function scrape (node: CdgossipNode, token: string): Promise<{ text: string, samples: Sample[] }> {
  const res = await request(node, 'GET', '/metrics', token)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  const text = await res.text()
  return { text, samples: parseMetrics(text) }
}

describe('GET /metrics', () => {
  it('counts what was published, refused and deduplicated per class, with HTTP durations by route pattern', async () => {
    const { node, token } = await startNode()
    const artifacts = [artifactPublished(), artifactPublished()]
    const run = pipelineRunFinished()
    const digests: string[] = []
    for (const event of [...artifacts, run]) {
      const res = await request(node, 'POST', '/v1/events', token, event)
      expect(res.status).toBe(202)
      digests.push((await res.json() as { digest: string }).digest)
    }
    // an identical repeat: 200 existing
    expect((await request(node, 'POST', '/v1/events', token, artifacts[0])).status).toBe(200)
    // schema violation: the artifact has no subject content
    const invalid = artifactPublished()
    const refused = await request(node, 'POST', '/v1/events', token, { ...invalid, subject: { id: invalid.subject.id } })
    expect(refused.status).toBe(400)
    expect((await refused.json() as { code: string }).code).toBe('CDG_INVALID_EVENT')
    // a batch refused for its second item counts that item's class once
    const badRun = pipelineRunFinished()
    const batch = await request(node, 'POST', '/v1/events', token, [artifactPublished(), { ...badRun, context: { ...badRun.context, specversion: '0.4.1' } }])
    expect((await batch.json() as { code: string }).code).toBe('CDG_UNSUPPORTED_SPEC_VERSION')
    expect((await request(node, 'GET', `/v1/events/${digests[0] ?? ''}`, token)).status).toBe(200)
    expect((await request(node, 'GET', '/no/such/route/secret-path', token)).status).toBe(404)
    // the token is required like everywhere else
    expect((await request(node, 'GET', '/metrics', undefined)).status).toBe(401)

    const { text, samples } = await scrape(node, token)
    expect(value(samples, 'cdgossip_events_published_total', { class: 'artifact.published' })).toBe(2)
    expect(value(samples, 'cdgossip_events_published_total', { class: 'pipelinerun.finished' })).toBe(1)
    expect(value(samples, 'cdgossip_events_deduplicated_total', { class: 'artifact.published', via: 'publish' })).toBe(1)
    expect(value(samples, 'cdgossip_events_rejected_total', { class: 'artifact.published', via: 'publish', reason: 'CDG_INVALID_EVENT' })).toBe(1)
    expect(value(samples, 'cdgossip_events_rejected_total', { class: 'pipelinerun.finished', via: 'publish', reason: 'CDG_UNSUPPORTED_SPEC_VERSION' })).toBe(1)
    expect(samples.filter(s => s.name === 'cdgossip_events_rejected_total').reduce((sum, s) => sum + s.value, 0)).toBe(2)
    expect(value(samples, 'cdgossip_store_events')).toBe(3)
    expect(value(samples, 'cdgossip_store_size_bytes')).toBeGreaterThan(0)
    expect(value(samples, 'cdgossip_node_info', { peer_id: node.peerId, network: 'cdgossip' })).toBe(1)
    expect(value(samples, 'cdgossip_peers')).toBe(0)
    // gossip had no peers, but every record was handed to gossipsub
    expect(value(samples, 'cdgossip_gossip_messages_published_total')).toBe(3)

    const count = (labels: Record<string, string>): number | undefined => value(samples, 'cdgossip_http_request_duration_seconds_count', labels)
    expect(count({ method: 'POST', route: '/v1/events', status_code: '202' })).toBe(3)
    expect(count({ method: 'POST', route: '/v1/events', status_code: '200' })).toBe(1)
    expect(count({ method: 'POST', route: '/v1/events', status_code: '400' })).toBe(2)
    expect(count({ method: 'GET', route: '/v1/events/:digest', status_code: '200' })).toBe(1)
    expect(count({ method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1)
    expect(count({ method: 'GET', route: '/metrics', status_code: '401' })).toBe(1)
    expect(value(samples, 'cdgossip_http_request_duration_seconds_bucket', { method: 'POST', route: '/v1/events', status_code: '202', le: '+Inf' })).toBe(3)
    // route patterns only: no digest, no raw URL
    expect(text).not.toContain('secret-path')
    expect(text).not.toContain(digests[0])
    expect(text).not.toContain(token)

    // libp2p's own metrics and the process's are part of the scrape
    expect(samples.some(s => s.name.startsWith('libp2p_'))).toBe(true)
    expect(value(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0)
  })

  it('counts gossip received per class, mesh per topic, and webhook attempts, failures, dead letters and lag per subscription', async () => {
    const receiver = http.createServer((req, res) => {
      req.resume()
      // 400 is not retried: the event goes straight to the dead letters
      req.on('end', () => { res.writeHead(req.url === '/ok' ? 204 : 400).end() })
    })
    await new Promise<void>(resolve => receiver.listen(0, '127.0.0.1', resolve))
    onTestFinished(async () => { await new Promise(resolve => receiver.close(resolve)) })
    const sinkUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`

    const [a, b] = await startNodes(2, {
      topology: 'line',
      meshClasses: ['artifact.published'],
      configure: (config, { index, peerIds }) => {
        config.subscriptions = [{ classes: ['artifact.*'] }]
        if (index === 1) {
          config.trust.communities = [{ peerId: peerIds[0] as string, name: 'a', sources: ['https://ci.example.org/'] }]
          config.subscriptions.push(
            { id: 'good', classes: ['artifact.*'], sink: { type: 'webhook', url: `${sinkUrl}/ok` } },
            { id: 'bad', classes: ['artifact.*'], sink: { type: 'webhook', url: `${sinkUrl}/bad` } }
          )
        }
      }
    })
    if (a === undefined || b === undefined) throw new Error('two nodes expected')
    for (const event of [artifactPublished(), artifactPublished()]) {
      expect((await request(a.node, 'POST', '/v1/events', a.token, event)).status).toBe(202)
    }

    const at = async (): Promise<Sample[]> => (await scrape(b.node, b.token)).samples
    await waitFor(async () => {
      const s = await at()
      return value(s, 'cdgossip_delivery_attempts_total', { subscription: 'good', result: 'delivered' }) === 2 &&
        value(s, 'cdgossip_delivery_attempts_total', { subscription: 'bad', result: 'dead-letter' }) === 2
    }, { timeout: 20_000, message: 'both events received by b and delivered (good) or dead-lettered (bad)' })

    const samples = await at()
    expect(value(samples, 'cdgossip_events_received_total', { class: 'artifact.published', via: 'gossip', outcome: 'stored' })).toBe(2)
    expect(value(samples, 'cdgossip_gossip_messages_received_total', { result: 'accept', reason: 'stored' })).toBe(2)
    expect(value(samples, 'cdgossip_store_events')).toBe(2)
    expect(value(samples, 'cdgossip_peers')).toBe(1)
    expect(value(samples, 'cdgossip_gossip_mesh_peers', { class: 'artifact.published' })).toBe(1)
    expect(value(samples, 'cdgossip_gossip_topic_peers', { class: 'artifact.published' })).toBe(1)
    expect(value(samples, 'cdgossip_delivery_failures_total', { subscription: 'good' })).toBeUndefined()
    expect(value(samples, 'cdgossip_delivery_failures_total', { subscription: 'bad' })).toBe(2)
    expect(value(samples, 'cdgossip_delivery_dead_letters', { subscription: 'bad' })).toBe(2)
    expect(value(samples, 'cdgossip_delivery_dead_letters', { subscription: 'good' })).toBe(0)
    expect(value(samples, 'cdgossip_delivery_lag_events', { subscription: 'good' })).toBe(0)
    expect(value(samples, 'cdgossip_delivery_state', { subscription: 'good', state: 'idle' })).toBe(1)
    expect(value(samples, 'cdgossip_delivery_state', { subscription: 'good', state: 'paused' })).toBe(0)
    expect(value(samples, 'cdgossip_sync_gap_sequences')).toBe(0)

    // a's side: published, nothing received
    const atA = (await scrape(a.node, a.token)).samples
    expect(value(atA, 'cdgossip_events_published_total', { class: 'artifact.published' })).toBe(2)
    expect(value(atA, 'cdgossip_events_received_total', { class: 'artifact.published', via: 'gossip', outcome: 'stored' })).toBeUndefined()
  })

  it('counts imported records through the receive path: stored, duplicate, and refused by code', async () => {
    const a = await startNode()
    const b = await startNode(config => { config.trust.mode = 'open' })
    const published = await request(a.node, 'POST', '/v1/events', a.token, artifactPublished())
    const { digest } = await published.json() as { digest: string }
    const record = await (await request(a.node, 'GET', `/v1/events/${digest}`, a.token)).json() as Record<string, string>
    const forged = { ...record, source: 'https://forged.example.org/' }

    const res = await request(b.node, 'POST', '/v1/records', b.token, [record, record, forged])
    expect(res.status).toBe(200)
    const result = await res.json() as { stored: number, duplicates: number, refused: Array<{ code: string }> }
    expect(result).toMatchObject({ stored: 1, duplicates: 1 })
    const reason = result.refused[0]?.code as string
    expect(reason).toBe('CDG_BAD_SIGNATURE')

    const { samples } = await scrape(b.node, b.token)
    expect(value(samples, 'cdgossip_events_received_total', { class: 'artifact.published', via: 'import', outcome: 'stored' })).toBe(1)
    expect(value(samples, 'cdgossip_events_deduplicated_total', { class: 'artifact.published', via: 'import' })).toBe(1)
    // refused before its data was decoded: no class yet
    expect(samples.filter(s => s.name === 'cdgossip_events_rejected_total')).toEqual([
      { name: 'cdgossip_events_rejected_total', labels: { class: 'unknown', via: 'import', reason }, value: 1 }
    ])
    expect(value(samples, 'cdgossip_events_published_total', { class: 'artifact.published' })).toBeUndefined()
  })

  it('keeps its counters and libp2p metrics across a stop and start of the same node', async () => {
    const { node, token } = await startNode()
    expect((await request(node, 'POST', '/v1/events', token, artifactPublished())).status).toBe(202)
    await node.stop()
    await node.start()
    expect((await request(node, 'POST', '/v1/events', token, artifactPublished())).status).toBe(202)
    const { samples } = await scrape(node, token)
    expect(value(samples, 'cdgossip_events_published_total', { class: 'artifact.published' })).toBe(2)
    expect(value(samples, 'cdgossip_store_events')).toBe(2)
    expect(samples.some(s => s.name.startsWith('libp2p_'))).toBe(true)
  })
})
