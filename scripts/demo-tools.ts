/**
 * `npm run demo:tools`: a GitHub-style webhook at one community becomes a signed CDEvent that
 * starts a job in another community's Jenkins. Two real cdgossip nodes on this machine:
 *   acme  has a `github` source: a signed `workflow_run` completed delivery (the demo plays
 *         GitHub and signs it as GitHub does, X-Hub-Signature-256) arrives at its hooks listener
 *         and becomes a pipelinerun.finished event signed by acme;
 *   qa    trusts acme for https://github.com/acme/ and subscribes to pipelinerun.finished with a
 *         `jenkins-build` sink pointed at a stand-in Jenkins (a small HTTP server here that prints
 *         the request it gets). Where this build has no jenkins-build sink yet, a plain `webhook`
 *         sink to the same stand-in is used, and the demo says so.
 * Prints each step, stops the nodes and removes their data. Exit 0 when the stand-in was called,
 * 1 otherwise.
 *
 *   node dist/scripts/demo-tools.js [--timeout <ms>]
 */
import '../src/polyfill.js'
import { createHmac, randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { defaultConfig, type NodeConfig } from '../src/config.js'
import { initDataDir } from '../src/data-dir.js'
import { loadOrCreateIdentity } from '../src/signing/index.js'
import { dataDirPaths } from '../src/data-dir.js'
import { createNode, type CdgossipNode } from '../src/node.js'
import { validateSubscriptionInput } from '../src/subscriptions/index.js'

/** Deadline of each wait: meshes form in well under a second on one machine; sync repairs within its interval. */
const WAIT_TIMEOUT_MS = 30_000
/** qa asks acme for missing records this often, so the event arrives even if gossip raced the mesh. */
const SYNC_INTERVAL_SECONDS = 1
const GITHUB_SECRET = `demo-${randomUUID()}`
const JENKINS_TOKEN = `demo-jenkins-${randomUUID()}`
const REPOSITORY = 'https://github.com/acme/widget'

export interface ToolsDemoOptions {
  out: (line: string) => void
  /** @default WAIT_TIMEOUT_MS */
  timeoutMs?: number
  /** where the demo's temp dir is made @default os.tmpdir() */
  tmpParent?: string
}

export interface ToolsDemoResult {
  exitCode: number
  /** what the stand-in Jenkins received */
  requests: StandInRequest[]
  /** the sink the qa community's subscription used */
  sinkType: string
}

export interface StandInRequest { method: string, url: string, user: string | undefined, body: string }

/** A stand-in Jenkins: answers 201 as buildWithParameters does, and remembers what it got. */
async function standInJenkins (): Promise<{ url: string, requests: StandInRequest[], close: () => Promise<void> }> {
  const requests: StandInRequest[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString('utf8') })
    req.on('end', () => {
      const auth = req.headers.authorization
      const user = auth?.startsWith('Basic ') === true ? Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0] : undefined
      requests.push({ method: req.method ?? '', url: req.url ?? '', user, body })
      res.writeHead(201, { location: '/queue/item/1/' }).end()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, requests, close: async () => { await new Promise(resolve => server.close(resolve)) } }
}

function nodeConfig (dataDir: string): NodeConfig {
  const config = defaultConfig(dataDir)
  config.network = `demo-tools-${randomUUID().slice(0, 8)}`
  config.api.port = 0
  config.p2p.listen = ['/ip4/127.0.0.1/tcp/0']
  config.p2p.heartbeatMs = 100
  config.sync.intervalSeconds = SYNC_INTERVAL_SECONDS
  config.hooks.listen = '127.0.0.1:0'
  config.log.level = 'silent'
  return config
}

/** The trigger: jenkins-build when this build has it, else a plain webhook to the stand-in. */
function triggerSink (jenkinsUrl: string, tokenFile: string): { sink: Record<string, unknown>, kind: string } {
  const sink = { type: 'jenkins-build', jenkinsUrl, job: 'qa/smoke', user: 'release-bot', tokenFile }
  try {
    validateSubscriptionInput({ classes: ['pipelinerun.finished'], sink })
    return { sink, kind: 'jenkins-build' }
  } catch {
    return { sink: { type: 'webhook', url: `${jenkinsUrl}/job/qa/job/smoke/buildWithParameters` }, kind: 'webhook (this build has no jenkins-build sink yet)' }
  }
}

/** A `workflow_run` completed delivery as GitHub sends it (the fields the github kind reads). */
function workflowRunCompleted (): string {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  return JSON.stringify({
    action: 'completed',
    workflow_run: {
      id: 4242, run_attempt: 1, name: 'release', path: '.github/workflows/release.yml',
      html_url: `${REPOSITORY}/actions/runs/4242`, status: 'completed', conclusion: 'success', created_at: now, updated_at: now
    },
    workflow: { name: 'release' },
    repository: { id: 1, name: 'widget', full_name: 'acme/widget', html_url: REPOSITORY, owner: { login: 'acme' } },
    sender: { login: 'octocat' }
  })
}

async function waitUntil (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** Runs the demo; never throws (a failure is exit code 1 with the reason on `out`). */
export async function runToolsDemo (options: ToolsDemoOptions): Promise<ToolsDemoResult> {
  const { out } = options
  const timeoutMs = options.timeoutMs ?? WAIT_TIMEOUT_MS
  const root = await fs.mkdtemp(path.join(options.tmpParent ?? os.tmpdir(), 'cdgossip-demo-tools-'))
  const nodes: CdgossipNode[] = []
  const jenkins = await standInJenkins()
  let sinkType = ''
  try {
    const acmeDir = path.join(root, 'acme')
    const qaDir = path.join(root, 'qa')
    await initDataDir(acmeDir)
    await initDataDir(qaDir)
    const acmeId = (await loadOrCreateIdentity(dataDirPaths(acmeDir).identity)).peerId
    const secretFile = path.join(root, 'github.secret')
    await fs.writeFile(secretFile, GITHUB_SECRET + '\n', { mode: 0o600 })
    const tokenFile = path.join(root, 'jenkins.token')
    await fs.writeFile(tokenFile, JENKINS_TOKEN + '\n', { mode: 0o600 })

    const acmeConfig = nodeConfig(acmeDir)
    acmeConfig.sources = [{ name: 'github', kind: 'github', secretFile }]
    const acme = await createNode(acmeConfig)
    await acme.start()
    nodes.push(acme)
    out(`acme  started: peer ${acme.peerId}; hooks listener ${acme.hooksUrl ?? '?'}/hooks/github (source kind github)`)

    const trigger = triggerSink(jenkins.url, tokenFile)
    sinkType = String(trigger.sink.type)
    const qaConfig = nodeConfig(qaDir)
    qaConfig.network = acmeConfig.network
    qaConfig.p2p.bootstrap = [`${acme.multiaddrs()[0] ?? ''}`]
    qaConfig.trust.communities = [{ peerId: acmeId, name: 'acme', sources: ['https://github.com/acme/'] }]
    // from the beginning: GitHub's times are whole seconds, so a run that finished in the second the
    // subscription was made would otherwise count as before it (`now` keeps events from its creation on)
    qaConfig.subscriptions = [{ id: 'smoke-after-release', classes: ['pipelinerun.finished'], filter: { origins: ['acme'], outcome: 'success' }, start: { kind: 'beginning' }, sink: trigger.sink }]
    const qa = await createNode(qaConfig)
    await qa.start()
    nodes.push(qa)
    out(`qa    started: trusts acme for https://github.com/acme/; subscription pipelinerun.finished (outcome success) → ${trigger.kind}`)
    out(`stand-in Jenkins at ${jenkins.url}`)
    await waitUntil('qa to connect to acme', () => qa.p2p.peers().length > 0, timeoutMs)

    const body = workflowRunCompleted()
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'workflow_run',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`
    }
    const forged = await fetch(`${acme.hooksUrl ?? ''}/hooks/github`, { method: 'POST', body, headers: { ...headers, 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) } })
    out(`\n"GitHub" → acme, forged signature: ${forged.status} (nothing stored)`)
    const res = await fetch(`${acme.hooksUrl ?? ''}/hooks/github`, { method: 'POST', body, headers })
    const answer = await res.json() as { receipts?: Array<{ type: string, id: string, source: string, digest: string }> }
    out(`"GitHub" → acme, workflow_run completed (conclusion success), signed: ${res.status}`)
    for (const r of answer.receipts ?? []) out(`  acme signed and stored ${r.type} source=${r.source} digest=${r.digest.slice(0, 16)}…`)
    if (res.status !== 202) throw new Error(`acme answered ${res.status}: ${JSON.stringify(answer)}`)
    const again = await fetch(`${acme.hooksUrl ?? ''}/hooks/github`, { method: 'POST', body, headers })
    out(`"GitHub" redelivers the same webhook: ${again.status} (an idempotent repeat, nothing new)`)

    await waitUntil('the stand-in Jenkins to be called', () => jenkins.requests.length > 0, timeoutMs)
    const [call] = jenkins.requests
    const held = await qa.queryEvents({ type: 'pipelinerun.finished', limit: 10 })
    out(`\nqa    received it over the network: ${held.events.length} pipelinerun.finished, signed by ${held.events[0]?.event.origin ?? '?'}`)
    out(`stand-in Jenkins got: ${call?.method ?? ''} ${decodeURIComponent(call?.url ?? '').slice(0, 400)}${call?.user === undefined ? '' : ` (basic auth user ${call.user})`}`)
    if (call !== undefined && call.body !== '') out(`  body: ${call.body.slice(0, 400)}`)
    out('\ndone: a tool\'s webhook in one community started a job in another.')
    return { exitCode: 0, requests: jenkins.requests, sinkType }
  } catch (err) {
    out(`demo failed: ${(err as Error).message}`)
    return { exitCode: 1, requests: jenkins.requests, sinkType }
  } finally {
    for (const node of nodes.reverse()) await node.stop().catch(() => {})
    await jenkins.close()
    await fs.rm(root, { recursive: true, force: true })
  }
}

async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { timeout: { type: 'string' } }, strict: true })
  const timeoutMs = values.timeout === undefined ? WAIT_TIMEOUT_MS : Number(values.timeout)
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    process.stderr.write(`--timeout must be a positive number of milliseconds, got ${values.timeout ?? ''}\n`)
    return 1
  }
  return (await runToolsDemo({ out: line => { process.stdout.write(line + '\n') }, timeoutMs })).exitCode
}

// run when executed (node dist/scripts/demo-tools.js), not when a test imports it
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2))
