/**
 * A github-dispatch subscription end to end: created over the REST API of a real node, fed by a
 * published event, delivered to a local stand-in of GitHub's API that checks the documented
 * request. The token lives in a 0600 file and appears in no API answer, dead letter or log line.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ToolStandIn } from '../delivery/tool-stand-ins.js'
import { artifactPublished, startNodes, tempDataDir, waitFor } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'

const TOKEN = 'ghp_e2eSecretToken0123456789abcdef'
const ROTATED = 'ghp_e2eRotatedToken9876543210fedcba'

interface Answer { status: number, body: any, text: string }

async function call (node: E2eNode, method: 'POST' | 'GET', route: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${node.node.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${node.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await res.text()
  const json = res.headers.get('content-type')?.includes('json') === true && text !== '' ? JSON.parse(text) : undefined
  return { status: res.status, body: json, text }
}

describe('trigger sinks on a running node', () => {
  it('POST /v1/subscriptions with a github-dispatch sink: a published event dispatches the workflow; 401 dead-letters, rotation + re-drive delivers; the token is never shown', async () => {
    const lines: string[] = []
    const log = pino({ level: 'debug' }, new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } }))
    const [node] = await startNodes(1, { topology: 'none', log: () => log }) as [E2eNode]
    const github = await ToolStandIn.start('github', { token: TOKEN })
    onTestFinished(async () => { await github.close() })
    const secrets = await tempDataDir('cdgossip-e2e-secrets-')
    const tokenFile = path.join(secrets, 'github-token')
    await fs.writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 })

    // the token itself is not a field a subscription can hold
    const inline = await call(node, 'POST', '/v1/subscriptions', {
      classes: ['artifact.*'], sink: { type: 'github-dispatch', apiUrl: github.baseUrl, owner: 'octo-org', repo: 'deploy', token: TOKEN }
    })
    expect(inline.status).toBe(400)

    const created = await call(node, 'POST', '/v1/subscriptions', {
      id: 'deploy', classes: ['artifact.*'], sink: { type: 'github-dispatch', apiUrl: github.baseUrl, owner: 'octo-org', repo: 'deploy', tokenFile }
    })
    expect(created.status, created.text).toBe(201)
    expect(created.body.sink).toEqual({
      type: 'github-dispatch', apiUrl: github.baseUrl, owner: 'octo-org', repo: 'deploy', tokenFile, maxAttempts: 10, maxAgeSeconds: 86_400, timeoutMs: 10_000
    })

    const event = artifactPublished({ source: 'https://ci.example.org/trigger-e2e' })
    expect((await call(node, 'POST', '/v1/events', event)).status).toBe(202)
    await waitFor(() => github.accepted.length === 1, { message: 'the stand-in receives the dispatch', timeout: 10_000 })
    const request = github.accepted[0]
    expect(request?.url).toBe('/repos/octo-org/deploy/dispatches')
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    const dispatch = JSON.parse(request?.body.toString('utf8') ?? '')
    expect(dispatch.event_type).toBe('artifact.published')
    expect(dispatch.client_payload).toMatchObject({
      type: event.context.type, id: event.context.id, source: event.context.source, subjectId: event.subject.id, origin: node.peerId, truncated: false
    })
    expect(dispatch.client_payload.digest).toMatch(/^[0-9a-f]{64}$/)

    // GitHub revokes the token: the next event is dead-lettered with the answer, not the token
    github.token = ROTATED
    const second = artifactPublished({ source: 'https://ci.example.org/trigger-e2e' })
    expect((await call(node, 'POST', '/v1/events', second)).status).toBe(202)
    let letters: Answer | undefined
    await waitFor(async () => {
      letters = await call(node, 'GET', '/v1/subscriptions/deploy/dead-letters')
      return Array.isArray(letters.body) && letters.body.length === 1
    }, { message: 'a dead letter', timeout: 10_000 })
    expect(letters?.body[0]).toMatchObject({ lastStatus: 401, lastError: expect.stringContaining('Bad credentials') })

    await fs.writeFile(tokenFile, `${ROTATED}\n`)
    expect((await call(node, 'POST', '/v1/subscriptions/deploy/dead-letters', {})).body).toEqual({ redriven: 1 })
    await waitFor(() => github.accepted.length === 2, { message: 'the re-drive reaches the stand-in with the rotated token', timeout: 10_000 })
    expect(github.accepted[1]?.headers.authorization).toBe(`Bearer ${ROTATED}`)

    const shown = [
      (await call(node, 'GET', '/v1/subscriptions')).text,
      (await call(node, 'GET', '/v1/subscriptions/deploy')).text,
      letters?.text ?? '',
      (await call(node, 'GET', '/v1/config')).text,
      lines.join('\n')
    ].join('\n')
    // the OpenAPI document is generated from the same schemas: the trigger sinks are in it
    const openapi = JSON.stringify((await call(node, 'GET', '/docs/json')).body)
    for (const type of ['github-dispatch', 'gitlab-pipeline', 'jenkins-build']) expect(openapi).toContain(type)
    expect(openapi).toContain('tokenFile')

    expect(shown).toContain(tokenFile)
    expect(shown).not.toContain(TOKEN)
    expect(shown).not.toContain(ROTATED)
  })

  it('a trigger sink whose token variable is unset: the node runs on, /metrics shows the subscription invalid and the log says why', async () => {
    const lines: string[] = []
    const log = pino({ level: 'info' }, new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } }))
    const [node] = await startNodes(1, { topology: 'none', log: () => log }) as [E2eNode]
    const variable = 'CDGOSSIP_TEST_UNSET_JENKINS_TOKEN'
    expect(process.env[variable]).toBeUndefined()
    const created = await call(node, 'POST', '/v1/subscriptions', {
      id: 'smoke', classes: ['service.*'], sink: { type: 'jenkins-build', jenkinsUrl: 'http://127.0.0.1:9', job: 'qa/smoke', user: 'bot', tokenEnv: variable }
    })
    expect(created.status, created.text).toBe(201)
    const invalid = `cdgossip_delivery_state{subscription="smoke",state="invalid"} 1`
    await waitFor(async () => (await call(node, 'GET', '/metrics')).text.includes(invalid), { message: 'the metric shows the subscription invalid', timeout: 10_000 })
    expect(lines.join('\n')).toContain(`sink.tokenEnv ${variable} is not set in the node's environment`)
    expect((await fetch(`${node.node.apiUrl}/healthz`)).status).toBe(200)
  })
})
