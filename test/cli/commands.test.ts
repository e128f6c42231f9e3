/**
 * Every client command of the real CLI (child processes) against real nodes, themselves started
 * with `cdgossip start`. One node `a` serves the whole file; `b` joins for import and peers.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { ED25519_LIBRARY } from '../../src/signing/index.js'
import type { EventView } from '../../src/store/index.js'
import {
  BIN,
  BUILT,
  REPO_ROOT,
  SKIP_REASON,
  SOURCE,
  artifactPublished,
  cleanEnv,
  closedPort,
  lines,
  makeTempDir,
  pipelineRunFinished,
  removeDir,
  runCli,
  startNode,
  waitFor
} from './cli-helpers.js'
import type { CliNode } from './cli-helpers.js'

const TITLE = 'cdgossip CLI commands'

async function tempDir (): Promise<string> {
  const dir = await makeTempDir()
  onTestFinished(async () => { await removeDir(dir) })
  return dir
}

async function writeJson (dir: string, name: string, value: unknown, jsonLines = false): Promise<string> {
  const file = path.join(dir, name)
  await fs.writeFile(file, jsonLines && Array.isArray(value) ? value.map((v) => JSON.stringify(v)).join('\n') + '\n' : JSON.stringify(value, null, 2))
  return file
}

/** Every event of a node (REST), oldest first. */
async function allViews (node: CliNode): Promise<EventView[]> {
  const out: EventView[] = []
  let cursor: string | undefined
  for (;;) {
    const qs = cursor === undefined ? 'limit=1000' : `limit=1000&cursor=${encodeURIComponent(cursor)}`
    const { body } = await node.api().request<{ events: EventView[], next?: string }>('GET', `/v1/events?${qs}`)
    out.push(...body.events)
    if (body.next === undefined) return out
    cursor = body.next
  }
}

/** Change one signed byte's worth of meaning: the CDEvent's user, re-encoded. */
function tamper (line: string): string {
  const record = JSON.parse(line) as Record<string, string>
  const data = JSON.parse(Buffer.from(record.data_base64 as string, 'base64').toString('utf8')) as { subject: { content: { user?: string } } }
  data.subject.content.user = 'mallory'
  return JSON.stringify({ ...record, data_base64: Buffer.from(JSON.stringify(data)).toString('base64') })
}

describe.skipIf(!BUILT)(BUILT ? TITLE : `${TITLE} ${SKIP_REASON}`, () => {
  let a: CliNode
  let aPeerId: string
  const dirs: string[] = []
  const nodes: CliNode[] = []

  beforeAll(async () => {
    const dir = await makeTempDir('cdgossip-cli-a-')
    dirs.push(dir)
    a = await startNode(dir)
    nodes.push(a)
    const { body } = await a.api().request<{ peerId: string }>('GET', '/v1/node')
    aPeerId = body.peerId
  })

  afterAll(async () => {
    for (const node of nodes.reverse()) await node.stop()
    for (const dir of dirs) await removeDir(dir)
  })

  describe('init and start', () => {
    it('init creates identity, token and config with private modes, and is safe to repeat', async () => {
      const dir = path.join(await tempDir(), 'node')
      const first = await runCli(['init', '--data-dir', dir, '--network', 'cdf', '--api-port', '7171', '--p2p-port', '4141'])
      expect(first.code).toBe(0)
      expect(first.stderr).toBe('')
      const peerId = /peer ID\s+(12D3KooW\w+) \(new identity\)/.exec(first.stdout)?.[1]
      expect(peerId).toBeDefined()
      expect(first.stdout).toContain(`created data dir ${dir}`)
      expect(first.stdout).toContain(`token    ${path.join(dir, 'api-token')} (new)`)
      expect(first.stdout).toContain(`config   ${path.join(dir, 'config.yaml')} (new)`)
      const mode = async (p: string): Promise<number> => (await fs.stat(p)).mode & 0o777
      expect(await mode(dir)).toBe(0o700)
      for (const file of ['identity.key', 'api-token', 'config.yaml']) expect(await mode(path.join(dir, file))).toBe(0o600)
      expect(parseYaml(await fs.readFile(path.join(dir, 'config.yaml'), 'utf8'))).toEqual({ network: 'cdf', api: { port: 7171 }, p2p: { listen: ['/ip4/0.0.0.0/tcp/4141'] } })
      const token = await fs.readFile(path.join(dir, 'api-token'), 'utf8')

      const second = await runCli(['init', '--data-dir', dir])
      expect(second.code).toBe(0)
      expect(second.stdout).toContain(`using data dir ${dir}`)
      expect(second.stdout).toContain(`peer ID  ${peerId ?? ''}\n`)
      expect(second.stdout).not.toContain('(new')
      expect(await fs.readFile(path.join(dir, 'api-token'), 'utf8')).toBe(token)

      // a data dir that is a file: one line saying so, no stack trace
      const file = path.join(path.dirname(dir), 'a-file')
      await fs.writeFile(file, '')
      const onFile = await runCli(['init', '--data-dir', file])
      expect(onFile.code).toBe(1)
      expect(lines(onFile.stderr)).toEqual([expect.stringMatching(/^cdgossip init: EEXIST: /)])
    })

    it('start prints the peer ID, the REST URL and where the token is', async () => {
      expect(a.stdout).toContain('node started')
      expect(a.stdout).toContain(`peer ID   ${aPeerId}`)
      expect(a.stdout).toContain(`REST API  ${a.apiUrl}   (token: ${path.join(a.dataDir, 'api-token')})`)
      expect(a.stdout).toMatch(new RegExp(`p2p +/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${aPeerId}`))
      expect(a.stdout).toContain(`data dir  ${a.dataDir}`)
      expect(a.stdout).toContain(`ed25519   ${ED25519_LIBRARY}`)
      expect(a.stdout).toContain(`node.js   ${process.version}`)
      // the token itself is never printed
      expect(a.stdout).not.toContain(a.token)
      expect(a.stderr).toBe('')
    })

    it('--version and help', async () => {
      const pkg = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
      const v = await runCli(['--version'])
      expect(v).toMatchObject({ code: 0, stdout: `${pkg.version}\n` })
      const help = await runCli(['help'])
      expect(help.code).toBe(0)
      expect(help.stdout).toContain('usage: cdgossip <command>')
      expect((await runCli(['events', '--help'])).code).toBe(0)
    })
  })

  describe('publish', () => {
    it('FILE with one event; the same again is an idempotent repeat', async () => {
      const dir = await tempDir()
      const event = artifactPublished()
      const file = await writeJson(dir, 'one.json', event)
      const first = await runCli(['publish', ...a.args, file])
      expect(first.code).toBe(0)
      expect(first.stdout).toMatch(new RegExp(`^published artifact\\.published #\\d+ id=${(event.context as { id: string }).id} digest=[0-9a-f]{64}\\n$`))
      const again = await runCli(['publish', ...a.args, file])
      expect(again.code).toBe(0)
      expect(again.stdout).toMatch(/^exists /)
      expect(again.stdout.slice(-65)).toBe(first.stdout.slice(-65))
    })

    it('- reads stdin: JSON lines', async () => {
      const events = [artifactPublished(), pipelineRunFinished(), artifactPublished()]
      const result = await runCli(['publish', ...a.args, '-'], { input: events.map((e) => JSON.stringify(e)).join('\n') + '\n' })
      expect(result.code).toBe(0)
      const out = lines(result.stdout)
      expect(out).toHaveLength(3)
      expect(out[1]).toMatch(/^published pipelinerun\.finished #\d+ /)
      for (const [i, e] of events.entries()) expect(out[i]).toContain(`id=${(e.context as { id: string }).id} `)
    })

    it('a JSON array (a batch), with --json receipts', async () => {
      const dir = await tempDir()
      const events = [artifactPublished(), artifactPublished()]
      const file = await writeJson(dir, 'batch.json', events)
      const result = await runCli(['publish', ...a.args, '--json', file])
      expect(result.code).toBe(0)
      const receipts = JSON.parse(result.stdout) as Array<{ id: string, status: string, sequence: number }>
      expect(receipts.map((r) => r.id)).toEqual(events.map((e) => (e.context as { id: string }).id))
      expect(receipts.every((r) => r.status === 'created')).toBe(true)
      expect(receipts[1]?.sequence).toBe((receipts[0]?.sequence ?? 0) + 1)
    })

    it('an invalid event: exit 1, the error code and the violation path; nothing stored', async () => {
      const dir = await tempDir()
      const good = artifactPublished()
      const bad = artifactPublished()
      ;(bad.subject as { content: unknown }).content = { sbom: 'not an object' }
      const file = await writeJson(dir, 'bad.json', [good, bad])
      const result = await runCli(['publish', ...a.args, file])
      expect(result.code).toBe(1)
      expect(result.stdout).toBe('')
      expect(result.stderr).toContain('CDG_INVALID_EVENT')
      expect(result.stderr).toMatch(/\/subject\/content\/sbom: must be of type object/)
      // a batch is all-or-nothing: the valid one is not stored either
      const ids = (await allViews(a)).map((v) => v.cdevent.context.id)
      expect(ids).not.toContain((good.context as { id: string }).id)
    })

    it('more events than one batch takes is a usage error, before anything is sent', async () => {
      const input = Array.from({ length: 1001 }, () => JSON.stringify(artifactPublished())).join('\n')
      const result = await runCli(['publish', ...a.args, '-'], { input })
      expect(result.code).toBe(2)
      expect(result.stderr).toContain('at most 1000 events')
    })

    it('input that is not JSON names its line; no input is a usage error', async () => {
      const dir = await tempDir()
      const file = path.join(dir, 'broken.jsonl')
      await fs.writeFile(file, JSON.stringify(artifactPublished()) + '\n{"context": \n')
      const broken = await runCli(['publish', ...a.args, file])
      expect(broken.code).toBe(1)
      expect(broken.stderr).toBe(`cdgossip publish: ${file}:2:13: Unexpected end of JSON input\n`)
      const empty = await runCli(['publish', ...a.args, '-'], { input: '\n' })
      expect(empty.code).toBe(2)
      const missing = await runCli(['publish', ...a.args, path.join(dir, 'nope.json')])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toContain('ENOENT')
    })
  })

  describe('events', () => {
    it('a table by default, one JSON view per line with --json, filters and paging', async () => {
      const subject = `pkg:generic/events-test-${Date.now()}@1.0.0`
      const dir = await tempDir()
      await runCli(['publish', ...a.args, await writeJson(dir, 'e.json', [artifactPublished({ subject }), pipelineRunFinished({ outcome: 'failure' })])])

      const table = await runCli(['events', ...a.args, '--limit', '1000'])
      expect(table.code).toBe(0)
      const rows = lines(table.stdout)
      expect(rows[0]).toMatch(/^TIME\s+CLASS\s+SUBJECT\s+OUTCOME\s+ORIGIN\s+SEQ\s+SOURCE$/)
      expect(rows.some((r) => r.includes(subject) && r.includes('artifact.published') && r.includes(aPeerId.slice(-8)) && r.includes(SOURCE))).toBe(true)
      expect(rows.some((r) => r.includes('pipelinerun.finished') && r.includes('failure'))).toBe(true)

      const json = await runCli(['events', ...a.args, '--json', '--subject', subject])
      expect(json.code).toBe(0)
      const views = lines(json.stdout).map((l) => JSON.parse(l) as EventView)
      expect(views).toHaveLength(1)
      expect(views[0]).toMatchObject({ origin: aPeerId, class: 'artifact.published', trusted: true, cdevent: { subject: { id: subject } } })
      expect(views[0]?.digest).toMatch(/^[0-9a-f]{64}$/)

      const typed = await runCli(['events', ...a.args, '--json', '--type', 'pipelinerun.finished', '--limit', '1000'])
      expect(lines(typed.stdout).map((l) => (JSON.parse(l) as EventView).class).every((c) => c === 'pipelinerun.finished')).toBe(true)

      const total = (await allViews(a)).length
      const one = await runCli(['events', ...a.args, '--json', '--limit', '1'])
      expect(lines(one.stdout)).toHaveLength(1)
      const paged = await runCli(['events', ...a.args, '--json', '--limit', '2', '--all'])
      expect(lines(paged.stdout)).toHaveLength(total)

      const none = await runCli(['events', ...a.args, '--subject', 'nothing-has-this-subject'])
      expect(none.stdout).toBe('no events\n')
      const badQuery = await runCli(['events', ...a.args, '--since', 'yesterday'])
      expect(badQuery.code).toBe(1)
      expect(badQuery.stderr).toContain('CDG_INVALID_REQUEST')
    })
  })

  describe('export, verify, import', () => {
    it('verify: an export is valid and names its signer; a tampered copy says what is wrong', async () => {
      const dir = await tempDir()
      await runCli(['publish', ...a.args, await writeJson(dir, 'e.json', [artifactPublished(), artifactPublished()])])
      const exported = await runCli(['export', ...a.args])
      expect(exported.code).toBe(0)
      // stdout is data only; nothing on stderr when it is not a terminal
      expect(exported.stderr).toBe('')
      const records = lines(exported.stdout)
      expect(records.length).toBe((await allViews(a)).length)
      for (const r of records) expect(JSON.parse(r)).toMatchObject({ specversion: '1.0', signedextattrs: 'sequence' })
      const file = path.join(dir, 'events.jsonl')
      await fs.writeFile(file, exported.stdout)

      const ok = await runCli(['verify', file])
      expect(ok.code).toBe(0)
      const verdicts = lines(ok.stdout)
      expect(verdicts).toHaveLength(records.length)
      for (const [i, v] of verdicts.entries()) expect(v).toMatch(new RegExp(`^line ${i + 1}: valid  signer=${aPeerId} id=\\S+ source=\\S+$`))

      const tampered = path.join(dir, 'tampered.jsonl')
      const copy = [...records]
      copy[1] = tamper(copy[1] as string)
      await fs.writeFile(tampered, copy.join('\n') + '\n')
      const bad = await runCli(['verify', tampered])
      expect(bad.code).toBe(1)
      const badVerdicts = lines(bad.stdout)
      expect(badVerdicts[0]).toMatch(/^line 1: valid /)
      expect(badVerdicts[1]).toMatch(/^line 2: INVALID {2}CDG_BAD_SIGNATURE: .*modified after signing/)
      expect(badVerdicts.slice(2).every((v) => v.includes(': valid '))).toBe(true)

      // not a record at all, and a signature that is not there
      const record = JSON.parse(records[0] as string) as Record<string, string>
      const odd = path.join(dir, 'odd.jsonl')
      await fs.writeFile(odd, [JSON.stringify({ hello: 'world' }), JSON.stringify({ ...record, dssematerial: undefined })].join('\n'))
      const oddResult = await runCli(['verify', odd])
      expect(oddResult.code).toBe(1)
      expect(lines(oddResult.stdout)).toEqual([
        expect.stringMatching(/^line 1: INVALID {2}CDG_[A-Z_]+: /),
        'line 2: INVALID  this CloudEvent carries no signature (no dssematerial), so it is not a signed record: export signed records with `cdgossip export`'
      ])

      expect((await runCli(['verify'])).code).toBe(2)
      const empty = path.join(dir, 'empty.jsonl')
      await fs.writeFile(empty, '')
      expect((await runCli(['verify', empty])).code).toBe(2)
    })

    it('import into a second node: stored, then already held; a tampered line is refused with its code', async () => {
      const dir = await tempDir()
      const bDir = await makeTempDir('cdgossip-cli-b-')
      dirs.push(bDir)
      const b = await startNode(bDir, ['--peer', a.p2pAddress()])
      nodes.push(b)
      // b keeps what a signs: it trusts a for a's source
      const trusted = await runCli(['trust', 'add', ...b.args, '--peer-id', aPeerId, '--name', 'a', '--source', SOURCE])
      expect(trusted).toMatchObject({ code: 0, stdout: `trusted a (${aPeerId})\n` })

      await runCli(['publish', ...a.args, await writeJson(dir, 'e.json', [artifactPublished(), pipelineRunFinished()])])
      const exported = await runCli(['export', ...a.args])
      const records = lines(exported.stdout)
      const file = path.join(dir, 'a.jsonl')
      await fs.writeFile(file, exported.stdout)

      const first = await runCli(['import', ...b.args, file])
      expect(first.stderr).toBe('')
      expect(first).toMatchObject({ code: 0, stdout: `stored ${records.length}, already held 0, refused 0\n` })
      const onB = await allViews(b)
      expect(onB.map((v) => v.digest).sort()).toEqual((await allViews(a)).map((v) => v.digest).sort())
      expect(onB.every((v) => v.origin === aPeerId)).toBe(true)

      const again = await runCli(['import', ...b.args, file])
      expect(again).toMatchObject({ code: 0, stdout: `stored 0, already held ${records.length}, refused 0\n` })

      const tampered = path.join(dir, 'tampered.jsonl')
      await fs.writeFile(tampered, [records[0], tamper(records[1] as string), '42'].join('\n') + '\n')
      const refused = await runCli(['import', ...b.args, tampered])
      expect(refused.code).toBe(1)
      const out = lines(refused.stdout)
      expect(out[0]).toBe('stored 0, already held 1, refused 2')
      expect(out[1]).toMatch(/^ {2}record 2: CDG_BAD_SIGNATURE: /)
      expect(out[2]).toMatch(/^ {2}record 3: CDG_INVALID_REQUEST: /)

      // b bootstrapped to a: each lists the other (b with a's trust name)
      await waitFor(async () => (await runCli(['peers', ...b.args])).stdout.includes(aPeerId), { message: 'b to list a as a peer' })
      const peersOnB = await runCli(['peers', ...b.args])
      expect(lines(peersOnB.stdout).find((l) => l.includes(aPeerId))).toMatch(/^a\s+12D3KooW/)
      const peersOnA = await runCli(['peers', ...a.args, '--json'])
      expect((JSON.parse(peersOnA.stdout) as Array<{ peerId: string }>).map((p) => p.peerId)).toContain(JSON.parse((await runCli(['status', ...b.args, '--json'])).stdout).peerId)
    })

    it('a big export goes out in pages and comes back in chunks (more than the API takes at once)', async () => {
      const dir = await tempDir()
      // b's API takes bodies of at most 64 KiB: the import must split its chunks further
      const bDir = await makeTempDir('cdgossip-cli-big-')
      dirs.push(bDir)
      await fs.writeFile(path.join(bDir, 'config.yaml'), `api:\n  bodyLimit: 65536\ntrust:\n  mode: allowlist\n  communities:\n    - { peerId: ${aPeerId}, name: a, sources: ['${SOURCE}'] }\n`)
      const b = await startNode(bDir)
      nodes.push(b)

      const BULK = 1100
      const events = Array.from({ length: BULK }, () => artifactPublished())
      // the API takes up to 1000 events per request
      await a.api().request('POST', '/v1/events', { json: events.slice(0, 1000) })
      await a.api().request('POST', '/v1/events', { json: events.slice(1000) })
      const total = (await allViews(a)).length
      expect(total).toBeGreaterThan(1000)

      const exported = await runCli(['export', ...a.args])
      expect(exported.code).toBe(0)
      expect(lines(exported.stdout)).toHaveLength(total)
      const file = path.join(dir, 'big.jsonl')
      await fs.writeFile(file, exported.stdout)

      const imported = await runCli(['import', ...b.args, file])
      expect(imported.stderr).toBe('')
      expect(imported).toMatchObject({ code: 0, stdout: `stored ${total}, already held 0, refused 0\n` })
      expect((await allViews(b)).length).toBe(total)
    })
  })

  describe('output into a closed pipe', () => {
    it('a reader that stops early (| head -1) ends the command quietly', async () => {
      // a holds well over a pipe buffer of records by now (the big export above)
      const child = spawn(process.execPath, [BIN, 'export', ...a.args], { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8') })
      const closed = new Promise<number | null>((resolve) => child.once('close', (code) => { resolve(code) }))
      const first = await new Promise<string>((resolve) => {
        let buffered = ''
        child.stdout.on('data', (c: Buffer) => {
          buffered += c.toString('utf8')
          if (buffered.includes('\n')) resolve(buffered.slice(0, buffered.indexOf('\n')))
        })
      })
      child.stdout.destroy()
      expect(JSON.parse(first)).toMatchObject({ specversion: '1.0' })
      expect(await closed).toBe(0)
      expect(stderr).toBe('')
    })
  })

  describe('trust', () => {
    it('add, list, remove; mistakes are usage errors or name the API error', async () => {
      const peerId = '12D3KooWSbKBjSTTftJS7ZDo4xS57nysYUKS9eFxTpyfLDKC4ZGU'
      const add = await runCli(['trust', 'add', ...a.args, '--peer-id', peerId, '--name', 'tekton', '--source', 'https://tekton.example.org/', '--source', 'https://ci.tekton.dev/', '--class', 'pipelinerun.*'])
      expect(add).toMatchObject({ code: 0, stdout: `trusted tekton (${peerId})\n` })

      const list = await runCli(['trust', 'list', ...a.args])
      expect(list.code).toBe(0)
      expect(list.stdout).toContain('mode: allowlist')
      const row = lines(list.stdout).find((l) => l.startsWith('tekton'))
      expect(row).toMatch(new RegExp(`^tekton\\s+node\\s+${peerId}\\s+https://tekton\\.example\\.org/,https://ci\\.tekton\\.dev/\\s+pipelinerun\\.\\*$`))
      const json = JSON.parse((await runCli(['trust', ...a.args, '--json'])).stdout) as { mode: string, entries: Array<{ name: string }> }
      expect(json.entries.map((e) => e.name)).toContain('tekton')

      expect(await runCli(['trust', 'remove', ...a.args, 'tekton'])).toMatchObject({ code: 0, stdout: 'removed tekton\n' })
      const gone = await runCli(['trust', 'remove', ...a.args, 'tekton'])
      expect(gone.code).toBe(1)
      expect(gone.stderr).toContain('404 CDG_NOT_FOUND')
      expect(lines((await runCli(['trust', 'list', ...a.args])).stdout).some((l) => l.startsWith('tekton'))).toBe(false)

      expect((await runCli(['trust', 'add', ...a.args, '--peer-id', peerId, '--name', 'x'])).code).toBe(2)
      expect((await runCli(['trust', 'frob', ...a.args])).code).toBe(2)
      expect((await runCli(['trust', 'remove', ...a.args])).code).toBe(2)
      const badPeer = await runCli(['trust', 'add', ...a.args, '--peer-id', 'not-a-peer-id', '--name', 'x', '--source', 'https://x.example/'])
      expect(badPeer.code).toBe(1)
      expect(badPeer.stderr).toMatch(/CDG_[A-Z_]+/)
    })

    it('add --community trusts a community by its root key; exactly one of --peer-id and --community', async () => {
      const rootKey = '12D3KooWSbKBjSTTftJS7ZDo4xS57nysYUKS9eFxTpyfLDKC4ZGU'
      const add = await runCli(['trust', 'add', ...a.args, '--community', rootKey, '--name', 'onap', '--source', 'https://jenkins.onap.org'])
      expect(add).toMatchObject({ code: 0, stdout: `trusted onap (community ${rootKey}: every node its manifest lists)\n` })
      const row = lines((await runCli(['trust', 'list', ...a.args])).stdout).find((l) => l.startsWith('onap'))
      expect(row?.split(/\s{2,}/)).toEqual(['onap', 'community', rootKey, 'https://jenkins.onap.org', '*'])
      expect((await runCli(['trust', 'add', ...a.args, '--community', rootKey, '--peer-id', rootKey, '--name', 'x', '--source', 'https://x.example/'])).code).toBe(2)
      expect(await runCli(['trust', 'remove', ...a.args, rootKey])).toMatchObject({ code: 0, stdout: `removed ${rootKey}\n` })
    })
  })

  describe('subscriptions', () => {
    it('subscribe, list, remove; a webhook with headers; mistakes', async () => {
      const sub = await runCli(['subscribe', ...a.args, '--class', 'artifact.*', '--class', 'service.deployed', '--id', 'releases', '--from', 'beginning', '--source-prefix', SOURCE])
      expect(sub).toMatchObject({ code: 0, stdout: 'subscription releases: artifact.*, service.deployed\n' })
      const hook = await runCli(['subscribe', ...a.args, '--class', 'pipelinerun.finished', '--outcome', 'failure', '--webhook', 'http://127.0.0.1:9/hook', '--structured', '--header', 'authorization=Bearer xyz'])
      expect(hook.code).toBe(0)
      const hookId = /^subscription (\S+): pipelinerun\.finished$/.exec(hook.stdout.trim())?.[1] as string
      expect(hookId).toBeDefined()

      // trigger sinks are created over REST (or config.yaml); the list names their target, never a credential
      const trigger = await fetch(`${a.apiUrl}/v1/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'dispatch', classes: ['artifact.published'], sink: { type: 'github-dispatch', owner: 'acme', repo: 'app', tokenEnv: 'CDG_TEST_GITHUB_TOKEN' } })
      })
      expect(trigger.status).toBe(201)

      const list = await runCli(['subscriptions', 'list', ...a.args])
      expect(list.code).toBe(0)
      const rows = lines(list.stdout)
      expect(rows[0]).toMatch(/^ID\s+CLASSES\s+SINK\s+START\s+FROM$/)
      expect(rows.find((r) => r.startsWith('releases '))).toMatch(/^releases\s+artifact\.\*,service\.deployed\s+store\s+beginning\s+api$/)
      expect(rows.find((r) => r.startsWith(`${hookId} `))).toMatch(/webhook http:\/\/127\.0\.0\.1:9\/hook\s+now\s+api$/)
      expect(rows.find((r) => r.startsWith('dispatch '))).toMatch(/^dispatch\s+artifact\.published\s+github-dispatch acme\/app\s+now\s+api$/)
      const json = JSON.parse((await runCli(['subscriptions', ...a.args, '--json'])).stdout) as Array<{ id: string, filter: Record<string, unknown>, sink: Record<string, unknown> }>
      expect(json.find((s) => s.id === hookId)).toMatchObject({ filter: { outcome: 'failure' }, sink: { type: 'webhook', mode: 'structured' } })
      expect(json.find((s) => s.id === 'releases')).toMatchObject({ filter: { sourcePrefix: SOURCE } })

      const dead = await runCli(['subscriptions', 'dead-letters', ...a.args, hookId])
      expect(dead).toMatchObject({ code: 0, stdout: 'no dead letters\n' })

      expect(await runCli(['subscriptions', 'remove', ...a.args, 'releases'])).toMatchObject({ code: 0, stdout: 'removed releases\n' })
      expect(await runCli(['subscriptions', 'remove', ...a.args, hookId])).toMatchObject({ code: 0 })
      const after = JSON.parse((await runCli(['subscriptions', ...a.args, '--json'])).stdout) as Array<{ id: string }>
      expect(after.map((s) => s.id)).not.toContain('releases')
      const again = await runCli(['subscriptions', 'remove', ...a.args, 'releases'])
      expect(again.code).toBe(1)
      expect(again.stderr).toContain('CDG_NOT_FOUND')

      expect((await runCli(['subscribe', ...a.args])).code).toBe(2)
      expect((await runCli(['subscribe', ...a.args, '--class', '*', '--from', 'yesterday'])).code).toBe(2)
      expect((await runCli(['subscribe', ...a.args, '--class', '*', '--webhook', 'http://x.example/', '--header', 'nonsense'])).code).toBe(2)
      expect((await runCli(['subscriptions', 'remove', ...a.args])).code).toBe(2)
      const badClass = await runCli(['subscribe', ...a.args, '--class', 'no.such.class.here'])
      expect(badClass.code).toBe(1)
      expect(badClass.stderr).toMatch(/CDG_INVALID_REQUEST/)
    })
  })

  describe('dead letters', () => {
    it('lists a webhook delivery that gave up, and re-drives it', async () => {
      const port = await closedPort()
      // one attempt, to a port nothing listens on: straight to the dead letters
      await a.api().request('POST', '/v1/subscriptions', { json: { id: 'doomed', classes: ['taskrun.finished'], sink: { type: 'webhook', url: `http://127.0.0.1:${port}/hook`, maxAttempts: 1 } } })
      onTestFinished(async () => { await a.api().request('DELETE', '/v1/subscriptions/doomed') })
      const id = `dl-${Date.now()}`
      const { body } = await a.api().request<{ digest: string }>('POST', '/v1/events', {
        json: { context: { specversion: '0.5.1', id, source: SOURCE, type: 'dev.cdevents.taskrun.finished.0.3.0', timestamp: new Date().toISOString() }, subject: { id: `task-${id}`, source: SOURCE, content: { taskName: 'unit', pipelineRun: { id: 'run-1' }, uri: 'https://ci.cli-test.example/t/1', outcome: 'failure' } } }
      })

      let listed = ''
      await waitFor(async () => {
        listed = (await runCli(['subscriptions', 'dead-letters', ...a.args, 'doomed'])).stdout
        return listed.includes(body.digest.slice(0, 16))
      }, { message: 'the delivery to give up' })
      expect(lines(listed)[0]).toMatch(/^DIGEST\s+ATTEMPTS\s+STATUS\s+ERROR\s+FAILED AT$/)
      expect(lines(listed)[1]).toMatch(new RegExp(`^${body.digest.slice(0, 16)}\\s+1\\s+`))

      expect(await runCli(['subscriptions', 'redrive', ...a.args, 'doomed'])).toMatchObject({ code: 0, stdout: 're-queued 1 dead letters\n' })
      // tried once more, and given up again
      await waitFor(async () => {
        const json = JSON.parse((await runCli(['subscriptions', 'dead-letters', ...a.args, 'doomed', '--json'])).stdout) as Array<{ digest: string, attempts: number }>
        return json.some((d) => d.digest === body.digest && d.attempts === 2)
      }, { message: 'the re-driven delivery to give up again' })
      const unknown = await runCli(['subscriptions', 'redrive', ...a.args, 'no-such-subscription'])
      expect(unknown.code).toBe(1)
      expect(unknown.stderr).toContain('404 CDG_NOT_FOUND')
    })
  })

  describe('status and peers', () => {
    it('status shows the node at a glance; --json is the node info', async () => {
      const status = await runCli(['status', ...a.args])
      expect(status.code).toBe(0)
      expect(status.stdout).toMatch(new RegExp(`^peer ID\\s+${aPeerId}$`, 'm'))
      expect(status.stdout).toMatch(/^network\s+cdgossip$/m)
      expect(status.stdout).toMatch(/^trust mode\s+allowlist$/m)
      const stored = (await allViews(a)).length
      expect(status.stdout).toMatch(new RegExp(`^events stored\\s+${stored}$`, 'm'))
      const json = JSON.parse((await runCli(['status', ...a.args, '--json'])).stdout) as { peerId: string, store: { events: number } }
      expect(json).toMatchObject({ peerId: aPeerId, store: { events: stored } })
    })

    it('peers on a node with no connections', async () => {
      const dir = await makeTempDir('cdgossip-cli-alone-')
      dirs.push(dir)
      const alone = await startNode(dir)
      nodes.push(alone)
      expect(await runCli(['peers', ...alone.args])).toMatchObject({ code: 0, stdout: 'no connected peers\n' })
      expect(await runCli(['peers', ...alone.args, '--json'])).toMatchObject({ code: 0, stdout: '[]\n' })
    })
  })

  describe('finding the node', () => {
    it('--api-url and --token, or CDGOSSIP_API_URL and CDGOSSIP_TOKEN, instead of the data dir', async () => {
      const empty = await tempDir()
      const flags = await runCli(['status', '--data-dir', empty, '--api-url', a.apiUrl, '--token', a.token, '--json'])
      expect(flags.code).toBe(0)
      expect(JSON.parse(flags.stdout)).toMatchObject({ peerId: aPeerId })
      const env = await runCli(['status', '--data-dir', empty, '--json'], { env: { CDGOSSIP_API_URL: a.apiUrl, CDGOSSIP_TOKEN: a.token } })
      expect(env.code).toBe(0)
      // empty variables are unset: the data dir decides
      const blank = await runCli(['status', ...a.args, '--json'], { env: { CDGOSSIP_API_URL: '', CDGOSSIP_TOKEN: '' } })
      expect(blank.code, blank.stderr).toBe(0)
      const wrong = await runCli(['status', ...a.args, '--token', 'not-the-token'])
      expect(wrong.code).toBe(1)
      expect(wrong.stderr).toContain('401 CDG_UNAUTHORIZED')
      // a's token is random base64url, so 1 run in 64 it begins with '-': such a value must reach
      // the node (here: refused as wrong), not fail argument parsing with exit 2
      const dashed = await runCli(['status', ...a.args, '--token', `-${a.token}`])
      expect(dashed.code, dashed.stderr).toBe(1)
      expect(dashed.stderr).toContain('401 CDG_UNAUTHORIZED')
    })

    it('node not running: exit 3 and a message that says so', async () => {
      const dir = path.join(await tempDir(), 'node')
      expect((await runCli(['init', '--data-dir', dir])).code).toBe(0)
      // a node that died without cleaning up left its api-url behind
      await fs.writeFile(path.join(dir, 'api-url'), `http://127.0.0.1:${await closedPort()}\n`)
      await fs.writeFile(path.join(dir, 'records.jsonl'), '{}\n')
      const commands = [['status'], ['events'], ['publish', '-'], ['tail'], ['trust', 'list'], ['import', path.join(dir, 'records.jsonl')]]
      const results = await Promise.all(commands.map(async (args) => await runCli([...args, '--data-dir', dir], { input: JSON.stringify(artifactPublished()) })))
      for (const [i, result] of results.entries()) {
        expect(result.code, `${commands[i]?.join(' ') ?? ''}: ${result.stderr}`).toBe(3)
        expect(result.stderr).toMatch(/cannot reach the cdgossip node at http:\/\/127\.0\.0\.1:\d+ \(is it running\? start it with: cdgossip start\)/)
        expect(result.stdout).toBe('')
      }
      const noDir = await runCli(['status', '--data-dir', path.join(dir, 'missing')])
      expect(noDir.code).toBe(3)
      expect(noDir.stderr).toContain('run cdgossip init')
    })
  })

  describe('usage errors exit 2', () => {
    it('unknown command, unknown flag, stray argument, bad value', async () => {
      const unknown = await runCli(['frobnicate'])
      expect(unknown.code).toBe(2)
      expect(unknown.stderr).toContain('unknown command frobnicate')
      expect(unknown.stdout).toBe('')
      const none = await runCli([])
      expect(none.code).toBe(2)
      expect(none.stderr).toContain('usage: cdgossip')
      const commands = [['events', '--bogus'], ['events', 'stray'], ['status', '--limit', '3'], ['start', '--api-port', 'abc'], ['init', '--p2p-port', '70000'], ['import'], ['config'], ['config', 'edit'], ['publish', 'a.json', 'b.json']]
      const results = await Promise.all(commands.map(async (args) => await runCli([...args, ...a.args])))
      for (const [i, result] of results.entries()) {
        expect(result.code, `${commands[i]?.join(' ') ?? ''}: ${result.stderr}`).toBe(2)
        expect(result.stderr).toMatch(/^cdgossip \w+: /)
      }
    })
  })

  describe('config show', () => {
    it('prints the effective configuration with secrets hidden', async () => {
      const dir = await tempDir()
      await fs.writeFile(path.join(dir, 'config.yaml'), [
        'network: cdf',
        'subscriptions:',
        '  - id: hook',
        "    classes: ['artifact.published']",
        '    sink:',
        '      type: webhook',
        "      url: 'https://hooks.example.org/cdevents?token=s3cr3t-query'",
        '      headers: { authorization: Bearer s3cr3t-header, x-team: infra }',
        ''
      ].join('\n'))
      const result = await runCli(['config', 'show', '--data-dir', dir], { env: { CDGOSSIP_API_PORT: '7777' } })
      expect(result.code).toBe(0)
      const shown = parseYaml(result.stdout) as { network: string, api: { port: number }, subscriptions: Array<{ sink: { url: string, headers: Record<string, string> } }>, secrets: Record<string, string> }
      expect(shown.network).toBe('cdf')
      expect(shown.api.port).toBe(7777)
      for (const secret of ['s3cr3t-query', 's3cr3t-header']) expect(result.stdout).not.toContain(secret)
      expect(shown.subscriptions[0]?.sink.headers).toEqual({ authorization: '(hidden)', 'x-team': '(hidden)' })
      // credentials in the URL itself are refused, as start refuses them (test/cli/config.test.ts)
      expect(shown.subscriptions[0]?.sink.url).toMatch(/^https:\/\/hooks\.example\.org\/cdevents\?token=/)
      expect(shown.secrets.apiToken).toBe(`${path.join(dir, 'api-token')} (not shown)`)
    })

    it('a bad config: exit 3 naming the key', async () => {
      const dir = await tempDir()
      await fs.writeFile(path.join(dir, 'config.yaml'), 'api:\n  prot: 7070\n')
      const result = await runCli(['config', 'show', '--data-dir', dir])
      expect(result.code).toBe(3)
      expect(result.stderr).toContain('config.yaml: api.prot: unknown field, did you mean port?')
      const env = await runCli(['config', 'show', '--data-dir', await tempDir()], { env: { CDGOSSIP_API_PORT: 'abc' } })
      expect(env.code).toBe(3)
      expect(env.stderr).toContain('env CDGOSSIP_API_PORT')
    })
  })
})
