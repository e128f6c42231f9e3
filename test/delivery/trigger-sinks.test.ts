/**
 * Trigger sinks (github-dispatch, gitlab-pipeline, jenkins-build) through the one delivery loop,
 * against local stand-ins that check each tool's documented request: method, path, headers
 * (auth included), body, form or query. Credentials come from files or the environment and never
 * show up in subscriptions, dead letters, status or logs.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  CredentialError, DeliveryService, MAX_CLIENT_PAYLOAD_BYTES, clientPayload, readCredential, resolveDeliveryTarget, triggerFacts
} from '../../src/delivery/index.js'
import type { DeadLetter, DeliveryAttempt, DeliveryProgress, DeliveryServiceInit } from '../../src/delivery/index.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { InvalidSubscriptionError, validateStoredSubscription, validateSubscriptionInput } from '../../src/subscriptions/index.js'
import type { Subscription } from '../../src/subscriptions/types.js'
import { MemorySource, MemoryStateSection, makeStored, matches, waitFor } from './fixtures.js'
import { ToolStandIn } from './tool-stand-ins.js'
import type { Tool } from './tool-stand-ins.js'

const FAST: DeliveryServiceInit = { backoffBaseMs: 5, backoffMaxMs: 20 }
const TOKEN = 'ghp_test0123456789abcdefTOKEN'

interface Harness {
  source: MemorySource
  service: DeliveryService
  attempts: DeliveryAttempt[]
  logLines: string[]
  env: NodeJS.ProcessEnv
}

function harness (env: NodeJS.ProcessEnv = {}): Harness {
  const source = new MemorySource()
  const attempts: DeliveryAttempt[] = []
  const logLines: string[] = []
  const log = pino({ level: 'trace' }, new Writable({ write (chunk, _enc, done) { logLines.push(String(chunk)); done() } }))
  const service = new DeliveryService({
    source,
    matches,
    progress: new MemoryStateSection<DeliveryProgress>(),
    deadLetters: new MemoryStateSection<DeadLetter[]>(),
    onAttempt: attempt => { attempts.push(attempt) },
    log,
    env
  }, FAST)
  onTestFinished(async () => { await service.stop() })
  return { source, service, attempts, logLines, env }
}

async function standIn (tool: Tool, options: { token?: string, user?: string, prefix?: string } = {}): Promise<ToolStandIn> {
  const s = await ToolStandIn.start(tool, { token: options.token ?? TOKEN, ...options })
  onTestFinished(async () => { await s.close() })
  return s
}

async function tempDir (): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-trigger-'))
  onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
  return dir
}

async function tokenFile (content: string, mode = 0o600): Promise<string> {
  const file = path.join(await tempDir(), 'token')
  await fs.writeFile(file, content, { mode })
  await fs.chmod(file, mode)
  return file
}

/** A subscription as the API would store it: through the one validator. */
function subscription (id: string, sink: Record<string, unknown>, classes = ['*']): Subscription {
  const input = validateSubscriptionInput({ id, classes, start: { kind: 'beginning' }, sink })
  return { ...input, id, createdAt: new Date().toISOString(), origin: 'api' }
}

async function run (h: Harness, subs: Subscription[]): Promise<void> {
  await h.service.syncSubscriptions(subs)
  await h.service.start()
}

function expectNoSecret (h: Harness, value: unknown, secret = TOKEN): void {
  expect(JSON.stringify(value)).not.toContain(secret)
  expect(h.logLines.join('\n')).not.toContain(secret)
}

describe('github-dispatch sink', () => {
  it('sends the documented repository_dispatch request and counts 204 as delivered', async () => {
    const github = await standIn('github')
    const h = harness()
    const stored = makeStored(1)
    h.source.append(stored)
    await run(h, [subscription('gh', { type: 'github-dispatch', apiUrl: github.baseUrl, owner: 'octo-org', repo: 'app.web', tokenFile: await tokenFile(`${TOKEN}\n`) })])

    await waitFor(() => h.attempts.length === 1, { message: 'one attempt' })
    expect(h.attempts[0]).toMatchObject({ result: 'delivered', status: 204 })
    expect(github.requests).toHaveLength(1)
    const request = github.accepted[0]
    expect(request?.method).toBe('POST')
    expect(request?.url).toBe('/repos/octo-org/app.web/dispatches')
    expect(request?.headers).toMatchObject({
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${TOKEN}`,
      'x-github-api-version': '2022-11-28',
      'user-agent': 'cdgossip',
      'content-type': 'application/json'
    })
    const body = JSON.parse(request?.body.toString('utf8') ?? '')
    expect(body).toEqual({
      event_type: 'pipelinerun.finished',
      client_payload: {
        type: 'dev.cdevents.pipelinerun.finished.0.2.0',
        id: 'event-1',
        source: '/ci/jenkins',
        subjectId: 'run-1',
        chainId: null,
        digest: stored.event.digest,
        origin: stored.event.origin,
        content: { pipelineName: 'build', outcome: 'success', url: 'https://ci.example/run/1' },
        truncated: false
      }
    })
    expect(Object.keys(body.client_payload).length).toBeLessThanOrEqual(10)
    await waitFor(async () => (await h.service.statuses())[0]?.state === 'idle', { message: 'caught up' })
    const [status] = await h.service.statuses()
    expect(status).toMatchObject({ state: 'idle', delivered: 1, lastStatus: 204 })
    expectNoSecret(h, status)
  })

  it('targets a GitHub Enterprise API URL with a path prefix', async () => {
    const ghes = await standIn('github', { prefix: '/api/v3' })
    const h = harness({ GH_TOKEN: TOKEN })
    h.source.append(makeStored(1))
    await run(h, [subscription('ghes', { type: 'github-dispatch', apiUrl: `${ghes.baseUrl}/`, owner: 'platform', repo: 'deploy', tokenEnv: 'GH_TOKEN' })])
    await waitFor(() => ghes.accepted.length === 1, { message: 'the dispatch reaches the prefixed API' })
    expect(ghes.accepted[0]?.url).toBe('/api/v3/repos/platform/deploy/dispatches')
    expect(ghes.accepted[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`)
  })

  it('retries 503 (honouring Retry-After) and then delivers', async () => {
    const github = await standIn('github')
    github.script = [{ status: 503, headers: { 'retry-after': '0' }, body: 'maintenance' }, { status: 502 }]
    const h = harness({ GH_TOKEN: TOKEN })
    h.source.append(makeStored(1))
    await run(h, [subscription('gh', { type: 'github-dispatch', apiUrl: github.baseUrl, owner: 'o', repo: 'r', tokenEnv: 'GH_TOKEN' })])
    await waitFor(() => h.attempts.length === 3, { message: 'three attempts' })
    expect(h.attempts.map(a => [a.result, a.status])).toEqual([['retry', 503], ['retry', 502], ['delivered', 204]])
    expect(github.accepted).toHaveLength(1)
    expect(await h.service.listDeadLetters('gh')).toEqual([])
  })

  it('waits out GitHub\'s rate limits answered as 403, but dead-letters a 403 that is a refusal', async () => {
    const github = await standIn('github')
    const resetNow = String(Math.floor(Date.now() / 1000))
    github.script = [
      { status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': resetNow }, body: '{"message":"API rate limit exceeded"}' },
      { status: 403, headers: { 'retry-after': '0' }, body: '{"message":"You have exceeded a secondary rate limit"}' },
      { status: 204 },
      { status: 403, body: '{"message":"Resource not accessible by personal access token"}' }
    ]
    const h = harness({ GH_TOKEN: TOKEN })
    h.source.append(makeStored(1), makeStored(2))
    await run(h, [subscription('gh', { type: 'github-dispatch', apiUrl: github.baseUrl, owner: 'o', repo: 'r', tokenEnv: 'GH_TOKEN' })])
    await waitFor(() => h.attempts.length === 4, { message: 'four attempts' })
    expect(h.attempts.map(a => [a.cursor, a.result, a.status])).toEqual([
      [makeStored(1).cursor, 'retry', 403], [makeStored(1).cursor, 'retry', 403], [makeStored(1).cursor, 'delivered', 204],
      [makeStored(2).cursor, 'dead-letter', 403]
    ])
    expect(h.attempts[0]?.error).toContain('rate limited')
  })

  it('dead-letters a 401 with the status and the tool\'s message, never the token; re-drive after rotating the file delivers', async () => {
    const github = await standIn('github', { token: 'the-new-token-0000' })
    // a hostile or chatty tool echoing the credential must not get it into dead letters
    github.script = [{ status: 401, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `Bad credentials: ${TOKEN}` }) }]
    const file = await tokenFile(TOKEN)
    const h = harness()
    const stored = makeStored(1)
    h.source.append(stored)
    await run(h, [subscription('gh', { type: 'github-dispatch', apiUrl: github.baseUrl, owner: 'o', repo: 'r', tokenFile: file, maxAttempts: 5 })])

    await waitFor(async () => (await h.service.listDeadLetters('gh')).length === 1, { message: 'a dead letter' })
    const [letter] = await h.service.listDeadLetters('gh')
    expect(letter).toMatchObject({ digest: stored.event.digest, attempts: 1, lastStatus: 401 })
    expect(letter?.lastError).toContain('HTTP 401')
    expect(letter?.lastError).toContain('Bad credentials')
    expect(letter?.lastError).toContain('[redacted]')
    expectNoSecret(h, [letter, await h.service.statuses()])

    // the operator rotates the token file in place; the next attempt reads it
    await fs.writeFile(file, 'the-new-token-0000\n')
    expect(await h.service.redrive('gh')).toBe(1)
    await waitFor(async () => (await h.service.listDeadLetters('gh')).length === 0, { message: 'the re-drive is delivered' })
    expect(github.accepted).toHaveLength(1)
    expect(github.accepted[0]?.headers.authorization).toBe('Bearer the-new-token-0000')
    expect(h.attempts.map(a => [a.result, a.redrive, a.status])).toEqual([['dead-letter', false, 401], ['delivered', true, 204]])
  })

  it('keeps client_payload within its bound, keeping content fields in order and saying it truncated', () => {
    const big = 'x'.repeat(40 * 1024)
    const stored = makeStored(1)
    stored.event.cdevent.subject.content = { first: 'kept', huge: big, second: big, last: 'kept too' }
    const payload = clientPayload(triggerFacts(stored))
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeLessThanOrEqual(MAX_CLIENT_PAYLOAD_BYTES)
    expect(payload.truncated).toBe(true)
    expect(payload.content).toEqual({ first: 'kept', huge: big, last: 'kept too' })
    expect(Object.keys(payload)).toEqual(['type', 'id', 'source', 'subjectId', 'chainId', 'digest', 'origin', 'content', 'truncated'])
  })
})

describe('gitlab-pipeline sink', () => {
  it('posts the documented trigger form (token, ref, variables[CDEVENT_*]) to the URL-encoded project path; 201 is delivered', async () => {
    const gitlab = await standIn('gitlab', { token: 'glptt-trigger-0123' })
    const h = harness({ GITLAB_TRIGGER: 'glptt-trigger-0123' })
    const stored = makeStored(1)
    stored.event.cdevent.context.chainId = 'chain-42'
    h.source.append(stored)
    await run(h, [subscription('gl', { type: 'gitlab-pipeline', gitlabUrl: gitlab.baseUrl, project: 'group/sub/app', ref: 'release/1.x', tokenEnv: 'GITLAB_TRIGGER' })])

    await waitFor(() => h.attempts.length === 1, { message: 'one attempt' })
    expect(h.attempts[0]).toMatchObject({ result: 'delivered', status: 201 })
    const request = gitlab.accepted[0]
    expect(request?.method).toBe('POST')
    expect(request?.url).toBe('/api/v4/projects/group%2Fsub%2Fapp/trigger/pipeline')
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(request?.headers['user-agent']).toBe('cdgossip')
    expect([...new URLSearchParams(request?.body.toString('utf8'))]).toEqual([
      ['token', 'glptt-trigger-0123'],
      ['ref', 'release/1.x'],
      ['variables[CDEVENT_TYPE]', 'dev.cdevents.pipelinerun.finished.0.2.0'],
      ['variables[CDEVENT_ID]', 'event-1'],
      ['variables[CDEVENT_SOURCE]', '/ci/jenkins'],
      ['variables[CDEVENT_SUBJECT_ID]', 'run-1'],
      ['variables[CDEVENT_CHAIN_ID]', 'chain-42'],
      ['variables[CDEVENT_DIGEST]', stored.event.digest],
      ['variables[CDEVENT_ORIGIN]', stored.event.origin],
      ['variables[CDEVENT_CLASS]', 'pipelinerun.finished']
    ])
    expectNoSecret(h, await h.service.statuses(), 'glptt-trigger-0123')
  })

  it('accepts a numeric project id', async () => {
    const gitlab = await standIn('gitlab')
    const h = harness({ T: TOKEN })
    h.source.append(makeStored(1))
    await run(h, [subscription('gl', { type: 'gitlab-pipeline', gitlabUrl: gitlab.baseUrl, project: 278964, ref: 'main', tokenEnv: 'T' })])
    await waitFor(() => gitlab.accepted.length === 1, { message: 'the pipeline is triggered' })
    expect(gitlab.accepted[0]?.url).toBe('/api/v4/projects/278964/trigger/pipeline')
  })
})

describe('jenkins-build sink', () => {
  it('posts buildWithParameters with basic auth and CDEVENT_* parameters to the nested job path; 201 is delivered', async () => {
    // Jenkins often runs under a path prefix (`--prefix=/jenkins`)
    const jenkins = await standIn('jenkins', { user: 'release-bot', token: '11aa22bb33cc44dd55ee66ff77', prefix: '/jenkins' })
    const h = harness()
    const stored = makeStored(1)
    h.source.append(stored)
    const file = await tokenFile('11aa22bb33cc44dd55ee66ff77\n')
    await run(h, [subscription('jk', { type: 'jenkins-build', jenkinsUrl: jenkins.baseUrl, job: 'team a/app/build', user: 'release-bot', tokenFile: file })])

    await waitFor(() => h.attempts.length === 1, { message: 'one attempt' })
    expect(h.attempts[0]).toMatchObject({ result: 'delivered', status: 201 })
    const request = jenkins.accepted[0]
    expect(request?.method).toBe('POST')
    const url = new URL(request?.url ?? '', 'http://x')
    expect(url.pathname).toBe('/jenkins/job/team%20a/job/app/job/build/buildWithParameters')
    expect([...url.searchParams]).toEqual([
      ['CDEVENT_TYPE', 'dev.cdevents.pipelinerun.finished.0.2.0'],
      ['CDEVENT_ID', 'event-1'],
      ['CDEVENT_SOURCE', '/ci/jenkins'],
      ['CDEVENT_SUBJECT_ID', 'run-1'],
      ['CDEVENT_DIGEST', stored.event.digest],
      ['CDEVENT_ORIGIN', stored.event.origin],
      ['CDEVENT_CLASS', 'pipelinerun.finished']
    ])
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from('release-bot:11aa22bb33cc44dd55ee66ff77').toString('base64')}`)
    expect(request?.body.byteLength).toBe(0)
  })

  it('dead-letters a wrong API token (401) without retrying', async () => {
    const jenkins = await standIn('jenkins', { user: 'bot', token: 'right-token-123' })
    const h = harness({ JENKINS_TOKEN: 'wrong-token-456' })
    h.source.append(makeStored(1), makeStored(2))
    await run(h, [subscription('jk', { type: 'jenkins-build', jenkinsUrl: jenkins.baseUrl, job: 'build', user: 'bot', tokenEnv: 'JENKINS_TOKEN' })])
    await waitFor(async () => (await h.service.listDeadLetters('jk')).length === 2, { message: 'both events dead-lettered' })
    expect(h.attempts.map(a => [a.result, a.status])).toEqual([['dead-letter', 401], ['dead-letter', 401]])
    expectNoSecret(h, [await h.service.listDeadLetters('jk'), await h.service.statuses()], 'wrong-token-456')
  })
})

describe('trigger sink credentials', () => {
  it('shows a missing token file as the invalid state with the reason, spends no attempts, and delivers once the file appears', async () => {
    const github = await standIn('github')
    const dir = await tempDir()
    const file = path.join(dir, 'github-token')
    const h = harness()
    h.source.append(makeStored(1))
    await run(h, [subscription('gh', { type: 'github-dispatch', apiUrl: github.baseUrl, owner: 'o', repo: 'r', tokenFile: file })])

    await waitFor(async () => (await h.service.statuses())[0]?.state === 'invalid', { message: 'the subscription shows the missing credential' })
    const [status] = await h.service.statuses()
    expect(status?.lastError).toBe(`sink.tokenFile ${file} does not exist`)
    expect(status).toMatchObject({ attempts: 0, failures: 0, deadLetters: 0 })
    expect(github.requests).toHaveLength(0)

    await fs.writeFile(file, TOKEN, { mode: 0o600 })
    await waitFor(() => github.accepted.length === 1, { message: 'delivered once the token file exists' })
    await waitFor(async () => (await h.service.statuses())[0]?.state === 'idle', { message: 'the state heals' })
    expect((await h.service.statuses())[0]).toMatchObject({ delivered: 1, attempts: 1 })
    expect((await h.service.statuses())[0]?.lastError).toBeUndefined()
    expect(h.logLines.join('\n')).toContain('sink credential cannot be used')
    expectNoSecret(h, null)
  })

  it('shows a missing credential while there is nothing to deliver, and clears it once the file is there', async () => {
    const file = path.join(await tempDir(), 'token')
    const h = harness()
    await run(h, [subscription('jk', { type: 'jenkins-build', jenkinsUrl: 'http://127.0.0.1:9', job: 'j', user: 'u', tokenFile: file })])
    await waitFor(async () => (await h.service.statuses())[0]?.state === 'invalid', { message: 'invalid while idle' })
    await fs.writeFile(file, TOKEN, { mode: 0o600 })
    await waitFor(async () => (await h.service.statuses())[0]?.state === 'idle', { message: 'idle once the token is readable' })
    expect((await h.service.statuses())[0]?.lastError).toBeUndefined()
  })

  it('refuses a group- or world-readable token file, like the node\'s own key and token files', async () => {
    const github = await standIn('github')
    const file = await tokenFile(TOKEN, 0o644)
    const h = harness()
    h.source.append(makeStored(1))
    await run(h, [subscription('gh', { type: 'github-dispatch', apiUrl: github.baseUrl, owner: 'o', repo: 'r', tokenFile: file })])
    await waitFor(async () => (await h.service.statuses())[0]?.state === 'invalid', { message: 'refused' })
    expect((await h.service.statuses())[0]?.lastError).toBe(`sink.tokenFile ${file} is readable by other users (mode 644); run: chmod 600 ${file}`)
    expect(github.requests).toHaveLength(0)
    expectNoSecret(h, null)
  })

  it('reads tokens from files and the environment, and says why one cannot be used without echoing it', async () => {
    expect(await readCredential({ tokenFile: await tokenFile(`  ${TOKEN}\n`) })).toBe(TOKEN)
    expect(await readCredential({ tokenEnv: 'X' }, { X: TOKEN })).toBe(TOKEN)
    const bigFile = await tokenFile('x'.repeat(5000))
    const cases: Array<[() => Promise<string>, string]> = [
      [async () => await readCredential({ tokenEnv: 'UNSET_VAR' }, {}), 'sink.tokenEnv UNSET_VAR is not set in the node\'s environment'],
      [async () => await readCredential({ tokenEnv: 'E' }, { E: '  \n' }), 'sink.tokenEnv E is empty'],
      [async () => await readCredential({ tokenEnv: 'E' }, { E: `${TOKEN}\r\nX-Injected: 1` }), 'sink.tokenEnv E holds characters a token cannot have (only printable ASCII without spaces)'],
      [async () => await readCredential({ tokenFile: bigFile }), 'is larger than 4096 bytes']
    ]
    for (const [read, message] of cases) {
      const err = await read().then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(CredentialError)
      expect((err as Error).message).toContain(message)
      expect((err as Error).message).not.toContain(TOKEN)
    }
    const dir = await tempDir()
    await expect(readCredential({ tokenFile: dir })).rejects.toThrow(/is not a regular file|is a directory/)
  })
})

describe('trigger sink validation', () => {
  const github = { type: 'github-dispatch', owner: 'octo-org', repo: 'app', tokenEnv: 'GH_TOKEN' }

  it('fills in defaults and canonical URLs', () => {
    expect(validateSubscriptionInput({ classes: ['*'], sink: github }).sink).toEqual({
      ...github, apiUrl: 'https://api.github.com', maxAttempts: 10, maxAgeSeconds: 86_400, timeoutMs: 10_000
    })
    expect(validateSubscriptionInput({ classes: ['*'], sink: { type: 'gitlab-pipeline', project: 42, ref: 'main', tokenFile: '/etc/cdgossip/gitlab' } }).sink)
      .toMatchObject({ gitlabUrl: 'https://gitlab.com', project: '42' })
    expect(validateSubscriptionInput({ classes: ['*'], sink: { type: 'jenkins-build', jenkinsUrl: 'https://ci.example.org/jenkins/', job: 'a/b', user: 'bot', tokenEnv: 'J' } }).sink)
      .toMatchObject({ jenkinsUrl: 'https://ci.example.org/jenkins' })
  })

  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['no credential', { ...github, tokenEnv: undefined }, 'sink.tokenFile'],
    ['two credentials', { ...github, tokenFile: '/run/secrets/gh' }, 'sink.tokenEnv'],
    ['a token in the body', { ...github, token: 'ghp_x' }, 'sink.token'],
    ['a relative token file', { ...github, tokenEnv: undefined, tokenFile: 'secrets/gh' }, 'sink.tokenFile'],
    ['a bad env var name', { ...github, tokenEnv: 'GH-TOKEN' }, 'sink.tokenEnv'],
    ['a bad owner', { ...github, owner: '-octo' }, 'sink.owner'],
    ['a missing repo', { ...github, repo: undefined }, 'sink.repo'],
    ['credentials in the API URL', { ...github, apiUrl: 'https://user:pw@ghe.example.org/api/v3' }, 'sink.apiUrl'],
    ['a query in the API URL', { ...github, apiUrl: 'https://ghe.example.org/api/v3?x=1' }, 'sink.apiUrl'],
    ['webhook fields on a trigger sink', { ...github, headers: { 'X-A': '1' } }, 'sink.headers'],
    ['a bad gitlab project', { type: 'gitlab-pipeline', project: '../x', ref: 'main', tokenEnv: 'T' }, 'sink.project'],
    ['a ref with a space', { type: 'gitlab-pipeline', project: 'g/p', ref: 'my branch', tokenEnv: 'T' }, 'sink.ref'],
    ['a jenkins job with an empty folder', { type: 'jenkins-build', jenkinsUrl: 'https://ci.example.org', job: 'a//b', user: 'bot', tokenEnv: 'T' }, 'sink.job'],
    ['a jenkins job with ..', { type: 'jenkins-build', jenkinsUrl: 'https://ci.example.org', job: 'a/../b', user: 'bot', tokenEnv: 'T' }, 'sink.job'],
    ['a jenkins user with a colon', { type: 'jenkins-build', jenkinsUrl: 'https://ci.example.org', job: 'b', user: 'a:b', tokenEnv: 'T' }, 'sink.user'],
    ['an unknown sink type', { type: 'circleci' }, 'sink.type']
  ]
  it.each(refused)('refuses %s, naming the field', (_name, sink, field) => {
    const input = { classes: ['*'], sink: JSON.parse(JSON.stringify(sink)) }
    let error: unknown
    try {
      validateSubscriptionInput(input)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(InvalidSubscriptionError)
    expect((error as InvalidSubscriptionError).details.field).toBe(field)
  })

  it('a stored sink that keeps its shape but breaks a rule still loads, and delivery reports it invalid instead of sending', async () => {
    const stored = {
      id: 'old', classes: ['*'], filter: {}, includeUntrusted: false, start: { kind: 'beginning' }, createdAt: '2025-01-01T00:00:00Z', origin: 'api',
      sink: { type: 'github-dispatch', apiUrl: 'https://api.github.com', owner: 'o', repo: 'r', tokenFile: 'relative/token', maxAttempts: 10, maxAgeSeconds: 60, timeoutMs: 1000 }
    }
    const sub = validateStoredSubscription(stored)
    expect(sub.sink).toEqual(stored.sink)
    expect(() => validateStoredSubscription({ ...stored, sink: { ...stored.sink, maxAttempts: 'ten' } })).toThrow(InvalidSubscriptionError)
    expect(() => resolveDeliveryTarget({ type: 'github-dispatch', owner: 'o', repo: 'r' })).toThrow(/exactly one of sink.tokenFile/)

    const h = harness()
    await run(h, [sub])
    const [status] = await h.service.statuses()
    expect(status?.state).toBe('invalid')
    expect(status?.lastError).toContain('sink.tokenFile must be an absolute path')
  })
})

describe('trigger sinks in config.yaml', () => {
  it('loads them through the same validator, and names a misplaced field with the fields that sink type takes', async () => {
    const dir = await tempDir()
    await fs.writeFile(path.join(dir, 'config.yaml'), [
      'subscriptions:',
      '  - id: deploy-on-release',
      '    classes: [artifact.published]',
      '    sink: { type: github-dispatch, owner: octo-org, repo: deploy, tokenFile: /etc/cdgossip/github-token }',
      '  - id: jenkins-tests',
      '    classes: [service.deployed]',
      '    sink: { type: jenkins-build, jenkinsUrl: "https://ci.example.org/", job: qa/smoke, user: bot, tokenEnv: JENKINS_TOKEN }',
      ''
    ].join('\n'))
    const config = await loadConfig({ dataDir: dir }, {})
    expect(config.subscriptions.map(s => validateSubscriptionInput(s).sink)).toEqual([
      { type: 'github-dispatch', apiUrl: 'https://api.github.com', owner: 'octo-org', repo: 'deploy', tokenFile: '/etc/cdgossip/github-token', maxAttempts: 10, maxAgeSeconds: 86_400, timeoutMs: 10_000 },
      { type: 'jenkins-build', jenkinsUrl: 'https://ci.example.org', job: 'qa/smoke', user: 'bot', tokenEnv: 'JENKINS_TOKEN', maxAttempts: 10, maxAgeSeconds: 86_400, timeoutMs: 10_000 }
    ])

    await fs.writeFile(path.join(dir, 'config.yaml'), [
      'subscriptions:',
      '  - classes: [artifact.published]',
      '    sink: { type: gitlab-pipeline, project: g/p, ref: main, token: glptt-in-the-clear }',
      ''
    ].join('\n'))
    const error = await loadConfig({ dataDir: dir }, {}).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    const problems = (error as ConfigError).details?.problems ?? []
    expect(problems.map(p => [p.key, p.message])).toEqual([
      ['subscriptions[0].sink.token', 'unknown field (known: type, gitlabUrl, project, ref, tokenFile, tokenEnv, maxAttempts, maxAgeSeconds, timeoutMs)'],
      ['subscriptions[0].sink.tokenFile', expect.stringContaining('give exactly one of sink.tokenFile')]
    ])
    expect((error as Error).message).not.toContain('glptt-in-the-clear')
  })
})
