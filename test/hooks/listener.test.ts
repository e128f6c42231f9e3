/**
 * The hooks listener of a real node (REST API and hooks listener on ephemeral ports, LevelDB in a
 * temp dir): webhooks signed as the tools sign them become stored, signed events; everything
 * else is refused the way a tool's delivery log can show.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { sign } from '@octokit/webhooks-methods'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { initDataDir } from '../../src/data-dir.js'
import { createNode, type CdgossipNode, type NodeOverrides } from '../../src/node.js'
import { ApiClient } from '../../src/cli/client.js'
import { standardTypeOf } from '../../src/events/index.js'
import { parseCloudEventJson, verifyCloudEvent } from '../../src/signing/index.js'
import { e2eConfig } from '../helpers/nodes.js'
import { readApiToken } from '../../src/data-dir.js'
import { fixtureBytes } from './token-kinds-helpers.js'

const NEXUS_SECRET = 'nexus-listener-secret'
const GITHUB_SECRET = 'github-listener-secret'
const GITHUB_PREVIOUS_SECRET = 'github-listener-old-secret'
const requireJson = createRequire(import.meta.url)
const GITHUB_EXAMPLES = requireJson('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string, examples: Array<Record<string, any>> }>

/** A documented GitHub example of `event` whose payload passes `match`. */
function githubExample (event: string, match: (payload: Record<string, any>) => boolean): Record<string, any> {
  const found = GITHUB_EXAMPLES.find(g => g.name === event)?.examples.find(match)
  if (found === undefined) throw new Error(`no ${event} example`)
  return found
}

/** Headers of a GitHub delivery, signed as GitHub signs (X-Hub-Signature-256), by @octokit/webhooks-methods. */
async function githubHeaders (event: string, body: string, options: { secret?: string, delivery?: string } = {}): Promise<Record<string, string>> {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/listener-test',
    'x-github-event': event,
    'x-github-delivery': options.delivery ?? randomUUID(),
    'x-hub-signature-256': await sign(options.secret ?? GITHUB_SECRET, body)
  }
}
const JENKINS_SECRET = 'jenkins-listener-token'

interface HookNode {
  node: CdgossipNode
  api: ApiClient
  dataDir: string
  token: string
  /** POST to /hooks/<name> of the running listener */
  post: (name: string, body: Uint8Array | string, headers?: Record<string, string>) => Promise<Response>
}

/** A node with the given sources (secrets written 0600 in its data dir); stopped and removed after the test. */
async function startHookNode (sources: (dir: string) => Promise<Array<Record<string, unknown>>>, options: { bodyLimit?: number } & NodeOverrides = {}): Promise<HookNode> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-hooks-'))
  let node: CdgossipNode | undefined
  onTestFinished(async () => {
    try {
      await node?.stop()
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true })
    }
  })
  await initDataDir(dataDir)
  const config = e2eConfig(dataDir)
  config.hooks.listen = '127.0.0.1:0'
  if (options.bodyLimit !== undefined) config.hooks.bodyLimit = options.bodyLimit
  config.sources = await sources(dataDir)
  node = await createNode(config, { ...(options.hookRates === undefined ? {} : { hookRates: options.hookRates }) })
  await node.start()
  const token = await readApiToken(dataDir)
  const running = node
  return {
    node: running,
    dataDir,
    token,
    api: new ApiClient({ baseUrl: running.apiUrl, token, timeoutMs: 15_000 }),
    post: async (name, body, headers = {}) => await fetch(`${running.hooksUrl ?? 'http://127.0.0.1:1'}/hooks/${name}`, { method: 'POST', body: typeof body === 'string' ? body : Buffer.from(body), headers })
  }
}

async function secretFile (dir: string, name: string, secret: string): Promise<string> {
  const file = path.join(dir, `${name}.secret`)
  await fs.writeFile(file, `${secret}\n`, { mode: 0o600 })
  return file
}

const standardSources = async (dir: string): Promise<Array<Record<string, unknown>>> => [
  { name: 'nexus', kind: 'nexus', secretFile: await secretFile(dir, 'nexus', NEXUS_SECRET), settings: { url: 'https://nexus.example.org' } },
  { name: 'jenkins', kind: 'jenkins', secretFile: await secretFile(dir, 'jenkins', JENKINS_SECRET) },
  {
    name: 'github',
    kind: 'github',
    secretFile: await secretFile(dir, 'github', GITHUB_SECRET),
    previousSecretFile: await secretFile(dir, 'github-old', GITHUB_PREVIOUS_SECRET)
  }
]

/** Headers of a Nexus component delivery, signed as Nexus signs (hex HMAC-SHA1 of the body). */
function nexusHeaders (body: Uint8Array | string, options: { secret?: string, event?: string, delivery?: string } = {}): Record<string, string> {
  return {
    'content-type': 'application/json; charset=UTF-8',
    'x-nexus-webhook-id': options.event ?? 'rm:repository:component',
    'x-nexus-webhook-delivery': options.delivery ?? randomUUID(),
    'x-nexus-webhook-signature': createHmac('sha1', options.secret ?? NEXUS_SECRET).update(body).digest('hex')
  }
}

async function storedCount (h: HookNode): Promise<number> {
  const { body } = await h.api.request<{ store: { events: number } }>('GET', '/v1/node')
  return body.store.events
}

interface Receipt { digest: string, id: string, source: string, type: string, status: string }

describe('hooks listener', () => {
  it('a signed Nexus delivery becomes a stored event signed by this node; a redelivery answers 200 with the same receipt', async () => {
    const h = await startHookNode(standardSources)
    const body = fixtureBytes('nexus', 'component-created-npm.json')
    const headers = nexusHeaders(body)
    const res = await h.post('nexus', body, headers)
    expect(res.status).toBe(202)
    const { receipts } = await res.json() as { receipts: Receipt[] }
    expect(receipts).toHaveLength(1)
    const [receipt] = receipts as [Receipt]
    expect(receipt).toMatchObject({ id: headers['x-nexus-webhook-delivery'], source: 'https://nexus.example.org', type: standardTypeOf('artifact.published'), status: 'created' })
    // stored, and its record verifies as signed by this node
    const stored = await h.node.getEvent(receipt.digest)
    expect(stored).toBeDefined()
    const verified = verifyCloudEvent(parseCloudEventJson(JSON.parse(Buffer.from(stored!.event.bytes).toString('utf8'))))
    expect(verified.signer).toBe(h.node.peerId)
    expect(await storedCount(h)).toBe(1)

    const again = await h.post('nexus', body, headers)
    expect(again.status).toBe(200)
    const repeated = await again.json() as { receipts: Receipt[] }
    expect(repeated.receipts).toEqual([{ ...receipt, status: 'existing' }])
    expect(await storedCount(h)).toBe(1)
  })

  it('a signed GitHub pull_request closed+merged and workflow_run completed become stored, signed events; the rotated-out secret still works; a forgery is 401', async () => {
    const h = await startHookNode(standardSources)
    // the examples hold closed pull requests that were not merged: this one is, as GitHub sends it then
    const closed = structuredClone(githubExample('pull_request', p => p.action === 'closed'))
    closed.pull_request.merged = true
    closed.pull_request.merged_at = closed.pull_request.closed_at
    const merged = JSON.stringify(closed)
    const res = await h.post('github', merged, await githubHeaders('pull_request', merged))
    expect(res.status).toBe(202)
    const { receipts } = await res.json() as { receipts: Receipt[] }
    expect(receipts.map(r => [r.type, r.status])).toEqual([[standardTypeOf('change.merged'), 'created']])
    expect(receipts[0]?.source).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+$/)
    const stored = await h.node.getEvent(receipts[0]!.digest)
    const cloudEvent = JSON.parse(Buffer.from(stored!.event.bytes).toString('utf8')) as Record<string, unknown>
    expect(verifyCloudEvent(parseCloudEventJson(cloudEvent)).signer).toBe(h.node.peerId)

    const run = JSON.stringify(githubExample('workflow_run', p => p.action === 'completed'))
    const delivery = randomUUID()
    const byOldSecret = await h.post('github', run, await githubHeaders('workflow_run', run, { secret: GITHUB_PREVIOUS_SECRET, delivery }))
    expect(byOldSecret.status).toBe(202)
    const runReceipts = (await byOldSecret.json() as { receipts: Receipt[] }).receipts
    expect(runReceipts.map(r => r.type)).toEqual([standardTypeOf('pipelinerun.finished')])
    // GitHub's "Redeliver" sends the same delivery id and body again
    const redelivered = await h.post('github', run, await githubHeaders('workflow_run', run, { delivery }))
    expect(redelivered.status).toBe(200)
    expect((await redelivered.json() as { receipts: Receipt[] }).receipts.map(r => r.status)).toEqual(['existing'])

    const forged = await h.post('github', merged, await githubHeaders('pull_request', merged, { secret: 'guessed' }))
    expect(forged.status).toBe(401)
    expect(await storedCount(h)).toBe(2)
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 })
    const ignored = await h.post('github', ping, await githubHeaders('ping', ping))
    expect(ignored.status).toBe(202)
    expect(await ignored.json()).toEqual({ ignored: expect.any(String) })
  })

  it('a Jenkins Notification plugin delivery with its bearer token is published; the API token is neither needed nor accepted instead', async () => {
    const h = await startHookNode(standardSources)
    const body = fixtureBytes('jenkins', 'notification-started.json')
    const res = await h.post('jenkins', body, { authorization: `Bearer ${JENKINS_SECRET}`, 'content-type': 'application/json' })
    expect(res.status).toBe(202)
    const { receipts } = await res.json() as { receipts: Receipt[] }
    expect(receipts.map(r => r.type)).toEqual([standardTypeOf('pipelinerun.started')])

    const withApiToken = await h.post('jenkins', fixtureBytes('jenkins', 'notification-queued.json'), { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' })
    expect(withApiToken.status).toBe(401)
    expect(await storedCount(h)).toBe(1)
  })

  it('a forged, unsigned or replayed-with-other-bytes delivery answers 401 and stores nothing', async () => {
    const h = await startHookNode(standardSources)
    const body = fixtureBytes('nexus', 'component-created-npm.json')
    expect((await h.post('nexus', body, nexusHeaders(body, { secret: 'not-the-secret' }))).status).toBe(401)
    const { 'x-nexus-webhook-signature': _signature, ...unsigned } = nexusHeaders(body)
    expect((await h.post('nexus', body, unsigned)).status).toBe(401)
    // a signature taken from another delivery does not cover these bytes
    const other = fixtureBytes('nexus', 'component-created-maven2.json')
    expect((await h.post('nexus', body, nexusHeaders(other))).status).toBe(401)
    expect((await h.post('jenkins', fixtureBytes('jenkins', 'notification-started.json'), { 'content-type': 'application/json' })).status).toBe(401)
    expect(await storedCount(h)).toBe(0)
    const nexus = (await h.api.request<Array<{ name: string, counts: Record<string, number> }>>('GET', '/v1/sources')).body.find(s => s.name === 'nexus')
    expect(nexus?.counts).toMatchObject({ received: 3, refused: 3, published: 0 })
  })

  it('an authentic delivery with no mapping answers 202 ignored and is counted; a malformed one answers 400 with the reason', async () => {
    const h = await startHookNode(standardSources)
    const asset = fixtureBytes('nexus', 'asset-created.json')
    const ignored = await h.post('nexus', asset, nexusHeaders(asset, { event: 'rm:repository:asset' }))
    expect(ignored.status).toBe(202)
    expect(await ignored.json()).toEqual({ ignored: expect.stringContaining('rm:repository:asset') })

    const malformed = '{"action": "CREATED", "repositoryName": "npm-proxy"'
    const bad = await h.post('nexus', malformed, nexusHeaders(malformed))
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ code: 'CDG_INVALID_REQUEST', message: expect.stringContaining('not JSON') })
    const missing = JSON.stringify({ action: 'CREATED', repositoryName: 'npm-proxy', timestamp: '2016-11-10T23:57:49.664+0000' })
    const noComponent = await h.post('nexus', missing, nexusHeaders(missing))
    expect(noComponent.status).toBe(400)
    expect((await noComponent.json() as { message: string }).message).toContain('component')
    expect(await storedCount(h)).toBe(0)

    const { body } = await h.api.request<{ sources: Array<Record<string, unknown>> }>('GET', '/v1/node')
    expect(body.sources).toContainEqual({ name: 'nexus', kind: 'nexus', origin: 'config', status: 'active', received: 3, published: 0, ignored: 1, refused: 0, failed: 2, limited: 0 })
    expect(body.sources).toContainEqual(expect.objectContaining({ name: 'jenkins', received: 0 }))
    const metrics = await fetch(`${h.node.apiUrl}/metrics`, { headers: { authorization: `Bearer ${h.token}` } })
    const text = await metrics.text()
    expect(text).toContain('cdgossip_hook_deliveries_total{source="nexus",outcome="ignored"} 1')
    expect(text).toContain('cdgossip_hook_deliveries_total{source="nexus",outcome="failed"} 2')
  })

  it('a body over hooks.bodyLimit answers 413 and stores nothing', async () => {
    const h = await startHookNode(standardSources, { bodyLimit: 2048 })
    const big = JSON.stringify({ padding: 'x'.repeat(4096) })
    const res = await h.post('nexus', big, nexusHeaders(big))
    expect(res.status).toBe(413)
    expect(await storedCount(h)).toBe(0)
  })

  it('over the per-source rate an authentic delivery answers 429 with Retry-After; the per-address limit comes before authentication', async () => {
    const h = await startHookNode(standardSources, { hookRates: { perSource: { perSecond: 0.01, burst: 2 }, perAddress: { perSecond: 0.01, burst: 5 } } })
    const asset = fixtureBytes('nexus', 'asset-created.json')
    const send = async (): Promise<Response> => await h.post('nexus', asset, nexusHeaders(asset, { event: 'rm:repository:asset' }))
    expect((await send()).status).toBe(202)
    expect((await send()).status).toBe(202)
    const limited = await send()
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    // forged deliveries use up the address's budget, not the source's
    expect((await h.post('nexus', asset, nexusHeaders(asset, { secret: 'forged' }))).status).toBe(401)
    expect((await h.post('jenkins', asset, {})).status).toBe(401)
    const byAddress = await h.post('jenkins', asset, {})
    expect(byAddress.status).toBe(429)
    expect(byAddress.headers.get('retry-after')).not.toBeNull()
    const nexus = (await h.api.request<Array<{ name: string, counts: Record<string, number> }>>('GET', '/v1/sources')).body.find(s => s.name === 'nexus')
    expect(nexus?.counts).toMatchObject({ ignored: 2, limited: 1, refused: 1 })
  })

  it('serves nothing but POST /hooks/{configured source}: 404 for unknown sources and every other path', async () => {
    const h = await startHookNode(standardSources)
    const base = h.node.hooksUrl!
    expect((await h.post('nobody', '{}', { 'content-type': 'application/json' })).status).toBe(404)
    expect((await h.post('NOT_A_NAME', '{}')).status).toBe(404)
    for (const p of ['/', '/hooks/nexus', '/v1/node', '/metrics', '/documentation', '/documentation/json', '/healthz']) {
      const res = await fetch(base + p, { headers: { authorization: `Bearer ${h.token}` } })
      expect(res.status, p).toBe(404)
      expect(res.headers.get('server')).toBeNull()
      expect(await res.text()).not.toMatch(/cdgossip|version|fastify/i)
    }
  })

  it('is off without sources; POST /v1/sources starts it and removing the last source stops it', async () => {
    const h = await startHookNode(async () => [])
    expect(h.node.hooksUrl).toBeUndefined()
    const file = await secretFile(h.dataDir, 'runtime', JENKINS_SECRET)
    const { status, body } = await h.api.request<Record<string, unknown>>('POST', '/v1/sources', { json: { name: 'ci', kind: 'jenkins', secretFile: file } })
    expect(status).toBe(201)
    expect(body).toMatchObject({ name: 'ci', kind: 'jenkins', origin: 'api', status: 'active', secretFile: file })
    expect(JSON.stringify(body)).not.toContain(JENKINS_SECRET)
    const url = h.node.hooksUrl
    expect(url).toBeDefined()
    const res = await h.post('ci', fixtureBytes('jenkins', 'notification-started.json'), { authorization: `Bearer ${JENKINS_SECRET}` })
    expect(res.status).toBe(202)
    expect((await h.api.request('DELETE', '/v1/sources/ci')).status).toBe(204)
    expect(h.node.hooksUrl).toBeUndefined()
    await expect(fetch(`${url ?? ''}/hooks/ci`, { method: 'POST', body: '{}' })).rejects.toThrow()
  })

  it('API sources persist across a restart; config file sources cannot be removed over the API; secrets must be private', async () => {
    const h = await startHookNode(standardSources)
    const loose = path.join(h.dataDir, 'loose.secret')
    await fs.writeFile(loose, 'secret\n', { mode: 0o644 })
    await fs.chmod(loose, 0o644)
    await expect(h.api.request('POST', '/v1/sources', { json: { name: 'loose', kind: 'jenkins', secretFile: loose } })).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('chmod 600') })
    await expect(h.api.request('DELETE', '/v1/sources/nexus')).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('config file') })
    await expect(h.api.request('POST', '/v1/sources', { json: { name: 'n2', kind: 'nexus', secretEnv: 'X' } })).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('url') })
    await expect(h.api.request('POST', '/v1/sources', { json: { name: 'nexus', kind: 'jenkins', secretFile: loose } })).rejects.toMatchObject({ statusCode: 400 })
    const file = await secretFile(h.dataDir, 'kept', JENKINS_SECRET)
    await h.api.request('POST', '/v1/sources', { json: { name: 'kept', kind: 'jenkins', secretFile: file, settings: { user: 'jenkins' } } })
    await h.node.stop()
    await h.node.start()
    const api = new ApiClient({ baseUrl: h.node.apiUrl, token: h.token, timeoutMs: 15_000 })
    const { body } = await api.request<Array<{ name: string, origin: string, settings?: unknown }>>('GET', '/v1/sources')
    expect(body.map(s => [s.name, s.origin])).toEqual([['nexus', 'config'], ['jenkins', 'config'], ['github', 'config'], ['kept', 'api']])
    expect(body.find(s => s.name === 'kept')?.settings).toEqual({ user: 'jenkins' })
  })

  it('a config file source whose secret cannot be read fails the start; an API source whose secret went away is unavailable, 404, and removable', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-hooks-'))
    onTestFinished(async () => { await fs.rm(dataDir, { recursive: true, force: true }) })
    await initDataDir(dataDir)
    const config = e2eConfig(dataDir)
    config.hooks.listen = '127.0.0.1:0'
    config.sources = [{ name: 'ci', kind: 'jenkins', secretEnv: 'CDGOSSIP_TEST_UNSET_HOOK_SECRET' }]
    const failing = await createNode(config)
    await expect(failing.start()).rejects.toMatchObject({ code: 'CDG_CONFIG', message: expect.stringContaining('CDGOSSIP_TEST_UNSET_HOOK_SECRET is not set') })
    expect(failing.state).toBe('stopped')

    const h = await startHookNode(async () => [])
    const file = await secretFile(h.dataDir, 'gone', JENKINS_SECRET)
    await h.api.request('POST', '/v1/sources', { json: { name: 'gone', kind: 'jenkins', secretFile: file } })
    await h.node.stop()
    await fs.rm(file)
    await h.node.start()
    const api = new ApiClient({ baseUrl: h.node.apiUrl, token: h.token, timeoutMs: 15_000 })
    const { body } = await api.request<Array<{ name: string, status: string, problem?: string }>>('GET', '/v1/sources')
    expect(body).toEqual([expect.objectContaining({ name: 'gone', status: 'unavailable', problem: expect.stringContaining('gone.secret') })])
    expect((await h.post('gone', fixtureBytes('jenkins', 'notification-started.json'), { authorization: `Bearer ${JENKINS_SECRET}` })).status).toBe(404)
    expect((await api.request('DELETE', '/v1/sources/gone')).status).toBe(204)
    expect(h.node.hooksUrl).toBeUndefined()
  })

  it('POST /v1/sources/{name}/test translates with the source\'s settings, checks no credential and publishes nothing', async () => {
    const h = await startHookNode(standardSources)
    const payload = Buffer.from(fixtureBytes('nexus', 'component-created-npm.json')).toString('utf8')
    const { body } = await h.api.request<{ events: Array<{ context: { source: string, type: string } }> }>('POST', '/v1/sources/nexus/test', { json: { body: payload, headers: { 'X-Nexus-Webhook-Id': 'rm:repository:component' } } })
    expect(body.events.map(e => [e.context.type, e.context.source])).toEqual([[standardTypeOf('artifact.published'), 'https://nexus.example.org']])
    const { body: ignored } = await h.api.request('POST', '/v1/sources/nexus/test', { json: { body: payload, headers: { 'x-nexus-webhook-id': 'rm:repository:asset' } } })
    expect(ignored).toEqual({ ignored: expect.any(String) })
    await expect(h.api.request('POST', '/v1/sources/nexus/test', { json: { body: '{', headers: { 'x-nexus-webhook-id': 'rm:repository:component' } } })).rejects.toMatchObject({ statusCode: 400 })
    await expect(h.api.request('POST', '/v1/sources/nobody/test', { json: { body: '{}' } })).rejects.toMatchObject({ statusCode: 404 })
    expect(await storedCount(h)).toBe(0)
  })
})
