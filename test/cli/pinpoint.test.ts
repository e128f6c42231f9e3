/**
 * CLI errors that point at the problem, and the flags and behaviours of issue 13's CLI part: the
 * real CLI (child processes) against one real node started with `cdgossip start`, whose API
 * token begins with a dash on purpose.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { ApiError } from '../../src/cli/client.js'
import type { EventView } from '../../src/store/index.js'
import {
  BIN,
  BUILT,
  REPO_ROOT,
  SKIP_REASON,
  artifactPublished,
  cleanEnv,
  lines,
  makeTempDir,
  pipelineRunFinished,
  removeDir,
  runCli,
  startNode,
  waitFor
} from './cli-helpers.js'
import type { CliNode } from './cli-helpers.js'

const TITLE = 'cdgossip CLI: errors that pinpoint, webhook limits, tail'

const idOf = (event: Record<string, unknown>): string => (event.context as { id: string }).id

/** An artifact.published whose sbom is not an object: a schema violation at /subject/content/sbom. */
function badArtifact (): Record<string, unknown> {
  const event = artifactPublished()
  const subject = event.subject as { content: Record<string, unknown> }
  return { ...event, subject: { ...subject, content: { ...subject.content, sbom: 5 } } }
}

describe.skipIf(!BUILT)(BUILT ? TITLE : `${TITLE} ${SKIP_REASON}`, () => {
  let node: CliNode
  let dir: string

  beforeAll(async () => {
    dir = await makeTempDir('cdgossip-cli-pinpoint-')
    expect((await runCli(['init', '--data-dir', dir])).code).toBe(0)
    // a token that begins with '-' (1 in 64 generated tokens do): `--token <it>` must still work
    await fs.rm(path.join(dir, 'api-token'))
    await fs.writeFile(path.join(dir, 'api-token'), `-${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 })
    node = await startNode(dir)
  })

  afterAll(async () => {
    await node?.stop()
    await removeDir(dir)
  })

  async function tempDir (): Promise<string> {
    const d = await makeTempDir()
    onTestFinished(async () => { await removeDir(d) })
    return d
  }

  async function storedCount (): Promise<number> {
    const { body } = await node.api().request<{ store: { events: number } }>('GET', '/v1/node')
    return body.store.events
  }

  it('a token that begins with a dash is a value of --token, not a usage error', async () => {
    expect(node.token.startsWith('-')).toBe(true)
    const withFlag = await runCli(['status', '--data-dir', await tempDir(), '--api-url', node.apiUrl, '--token', node.token, '--json'])
    expect(withFlag.stderr).toBe('')
    expect(withFlag.code).toBe(0)
    // a forgotten value is still caught: the next argument is one of the command's options
    const forgotten = await runCli(['status', ...node.args, '--token', '--json'])
    expect(forgotten.code).toBe(2)
  })

  it('--api-url (or CDGOSSIP_API_URL) without a scheme is a usage error that says what is expected', async () => {
    const flag = await runCli(['status', ...node.args, '--api-url', '127.0.0.1:7070'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toBe('cdgossip status: --api-url must be the node\'s REST URL with its scheme, like http://127.0.0.1:7070; got "127.0.0.1:7070" (did you mean http://127.0.0.1:7070?)\n')
    const env = await runCli(['events', ...node.args], { env: { CDGOSSIP_API_URL: 'localhost:7070' } })
    expect(env.code).toBe(2)
    expect(env.stderr).toContain('CDGOSSIP_API_URL must be the node\'s REST URL with its scheme')
    expect((await runCli(['status', ...node.args, '--api-url', 'ftp://127.0.0.1:7070'])).code).toBe(2)
  })

  describe('publish', () => {
    it('a refused batch names each bad event by its position and id; nothing is stored', async () => {
      const d = await tempDir()
      const events = [artifactPublished(), badArtifact(), pipelineRunFinished(), badArtifact()]
      const file = path.join(d, 'batch.json')
      await fs.writeFile(file, JSON.stringify(events, null, 2))
      const before = await storedCount()
      const result = await runCli(['publish', ...node.args, file])
      expect(result.code).toBe(1)
      const err = lines(result.stderr)
      expect(err[0]).toBe('cdgossip publish: 400 CDG_INVALID_EVENT: 2 of 4 events in the batch are refused; nothing was stored (each violation names its event\'s index, from 0, and id)')
      expect(err.slice(1)).toEqual([
        expect.stringMatching(new RegExp(`^ {2}event 2 \\(id ${idOf(events[1] as Record<string, unknown>)}\\): /subject/content/sbom: must be `)),
        expect.stringMatching(new RegExp(`^ {2}event 4 \\(id ${idOf(events[3] as Record<string, unknown>)}\\): /subject/content/sbom: must be `))
      ])
      expect(await storedCount()).toBe(before)

      // the REST answer carries the index (from 0) and id in each violation
      const refused = await node.api().request('POST', '/v1/events', { json: events }).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(ApiError)
      expect((refused as ApiError).details?.violations).toEqual([
        { index: 1, id: idOf(events[1] as Record<string, unknown>), path: '/subject/content/sbom', message: expect.any(String) },
        { index: 3, id: idOf(events[3] as Record<string, unknown>), path: '/subject/content/sbom', message: expect.any(String) }
      ])
      // one event alone keeps its plain answer
      const single = await node.api().request('POST', '/v1/events', { json: badArtifact() }).catch((e: unknown) => e) as ApiError
      expect(single.details?.violations).toEqual([{ path: '/subject/content/sbom', message: expect.any(String) }])
    })

    it('a JSON syntax error is reported at its line and column, pretty-printed or JSON lines', async () => {
      const d = await tempDir()
      const pretty = path.join(d, 'events.json')
      // a missing comma after "source" on line 5
      await fs.writeFile(pretty, [
        '{',
        '  "context": {',
        '    "specversion": "0.5.1",',
        '    "id": "x-1",',
        '    "source": "https://ci.example.org"',
        '    "type": "dev.cdevents.artifact.published.0.3.0"',
        '  }',
        '}',
        ''
      ].join('\n'))
      const result = await runCli(['publish', ...node.args, pretty])
      expect(result.code).toBe(1)
      expect(result.stderr).toBe(`cdgossip publish: ${pretty}:6:5: Expected ',' or '}' after property value\n`)

      const jsonl = path.join(d, 'events.jsonl')
      await fs.writeFile(jsonl, [JSON.stringify(artifactPublished()), JSON.stringify(artifactPublished()), '{"context": {"id": "x-2",}}'].join('\n'))
      const broken = await runCli(['publish', ...node.args, jsonl])
      expect(broken.code).toBe(1)
      expect(broken.stderr).toBe(`cdgossip publish: ${jsonl}:3:26: Expected double-quoted property name\n`)

      const stdin = await runCli(['publish', ...node.args, '-'], { input: '[\n  {"a": 1},\n  {"a": 2}\n  {"a": 3}\n]\n' })
      expect(stdin.stderr).toBe('cdgossip publish: <stdin>:4:3: Expected \',\' or \']\' after array element\n')
    })
  })

  describe('events', () => {
    it('--type takes class patterns like subscribe; a misspelt one is refused with the nearest subject', async () => {
      const artifact = artifactPublished()
      const run = pipelineRunFinished()
      await node.api().request('POST', '/v1/events', { json: [artifact, run] })
      const result = await runCli(['events', ...node.args, '--type', 'artifact.*', '--all', '--json'])
      expect(result.code).toBe(0)
      const views = lines(result.stdout).map((l) => JSON.parse(l) as EventView)
      expect(views.map((v) => v.cdevent.context.id)).toContain(idOf(artifact))
      expect(views.every((v) => v.class.startsWith('artifact.'))).toBe(true)
      const every = await runCli(['events', ...node.args, '--type', '*', '--all', '--json'])
      expect(lines(every.stdout)).toHaveLength(await storedCount())

      const typo = await runCli(['events', ...node.args, '--type', 'artifacts.*'])
      expect(typo.code).toBe(1)
      expect(typo.stderr).toContain('type: unknown subject "artifacts"; did you mean "artifact"? subjects: ')
      expect(typo.stderr).not.toMatch(/\^\(|\\\./)
    })

    it('says on stderr when more pages exist, with the command that reads the next one', async () => {
      await node.api().request('POST', '/v1/events', { json: [artifactPublished(), artifactPublished()] })
      const first = await runCli(['events', ...node.args, '--type', 'artifact.*', '--limit', '1', '--json'])
      expect(first.code).toBe(0)
      expect(lines(first.stdout)).toHaveLength(1)
      const hint = /^more events: cdgossip events (.*) {3}\(or --all for every page\)$/.exec(first.stderr.trim())
      expect(hint, first.stderr).not.toBeNull()
      // the suggested command is this one with the next cursor (arguments as a shell reads them)
      const args = (hint?.[1] ?? '').split(' ').map((a) => a.replace(/^'(.*)'$/, '$1'))
      expect(args).toEqual([...node.args, '--type', 'artifact.*', '--limit', '1', '--json', '--cursor', expect.stringMatching(/^[0-9a-z]+$/)])
      const second = await runCli(['events', ...args])
      expect(second.code).toBe(0)
      const [a, b] = [first, second].map((r) => (JSON.parse(lines(r.stdout)[0] ?? '{}') as EventView).cursor)
      expect(a).not.toBe(b)
      // the last page says nothing
      const all = await runCli(['events', ...node.args, '--all', '--json'])
      expect(all.stderr).toBe('')
    })
  })

  describe('verify', () => {
    it('checks every line and reports each; says so for a bare CDEvent or an unsigned CloudEvent', async () => {
      const d = await tempDir()
      const exported = lines((await runCli(['export', ...node.args, '--type', 'artifact.published', '--limit', '2'])).stdout)
      expect(exported.length).toBeGreaterThanOrEqual(2)
      const { body } = await node.api().request<{ peerId: string }>('GET', '/v1/node')
      const unsigned = { ...(JSON.parse(exported[0] as string) as Record<string, unknown>), dssematerial: undefined }
      const file = path.join(d, 'mixed.jsonl')
      await fs.writeFile(file, [exported[0], JSON.stringify(artifactPublished()), '{"specversion": "1.0",', exported[1], JSON.stringify(unsigned), ''].join('\n'))
      const result = await runCli(['verify', file])
      expect(result.code).toBe(1)
      expect(lines(result.stdout)).toEqual([
        expect.stringMatching(new RegExp(`^line 1: valid  signer=${body.peerId} id=\\S+ source=\\S+$`)),
        'line 2: INVALID  this is a bare CDEvent, not a signed record: export signed records with `cdgossip export`',
        'line 3: INVALID  not JSON: column 23: Unexpected end of JSON input',
        expect.stringMatching(/^line 4: valid {2}signer=/),
        'line 5: INVALID  this CloudEvent carries no signature (no dssematerial), so it is not a signed record: export signed records with `cdgossip export`'
      ])

      const bare = path.join(d, 'bare.json')
      await fs.writeFile(bare, JSON.stringify(artifactPublished(), null, 2))
      const single = await runCli(['verify', bare])
      expect(single.code).toBe(1)
      expect(single.stdout).toBe('record 1: INVALID  this is a bare CDEvent, not a signed record: export signed records with `cdgossip export`\n')

      const clean = path.join(d, 'clean.jsonl')
      await fs.writeFile(clean, exported.join('\n'))
      expect((await runCli(['verify', clean])).code).toBe(0)
    })
  })

  describe('subscribe', () => {
    it('a bad class pattern gets the nearest subject and the list of subjects, from the CLI and the REST API', async () => {
      const result = await runCli(['subscribe', ...node.args, '--class', 'artifacts.*'])
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('classes[0]: unknown subject "artifacts"; did you mean "artifact"? subjects: artifact, ')
      expect(result.stderr).not.toMatch(/\^\(|must match pattern/)
      const rest = await node.api().request('POST', '/v1/subscriptions', { json: { classes: ['*', 'pipelinerun.finish'] } }).catch((e: unknown) => e) as ApiError
      expect(rest.statusCode).toBe(400)
      expect(rest.details?.violations).toEqual([{ path: '/classes/1', message: expect.stringContaining('unknown event class "pipelinerun.finish"; did you mean "pipelinerun.finished"?') }])
      // trust entries take the same patterns and answer the same way
      const trust = await runCli(['trust', 'add', ...node.args, '--peer-id', '12D3KooWSbKBjSTTftJS7ZDo4xS57nysYUKS9eFxTpyfLDKC4ZGU', '--name', 'x', '--source', '*', '--class', 'artifacts.*'])
      expect(trust.code).toBe(1)
      expect(trust.stderr).toContain('classes[0]: unknown subject "artifacts"; did you mean "artifact"?')
      expect(trust.stderr).not.toMatch(/\^\(|must match pattern/)
    })

    it('--webhook takes --max-attempts, --max-age and --timeout; the defaults are what the README says', async () => {
      const hook = await runCli(['subscribe', ...node.args, '--id', 'limits', '--class', 'artifact.*', '--webhook', 'http://127.0.0.1:9/hook', '--max-attempts', '3', '--max-age', '600', '--timeout', '2000'])
      expect(hook).toMatchObject({ code: 0, stdout: 'subscription limits: artifact.*\n' })
      onTestFinished(async () => { await node.api().request('DELETE', '/v1/subscriptions/limits') })
      const plain = await runCli(['subscribe', ...node.args, '--id', 'defaults', '--class', 'artifact.*', '--webhook', 'http://127.0.0.1:9/hook'])
      expect(plain.code).toBe(0)
      onTestFinished(async () => { await node.api().request('DELETE', '/v1/subscriptions/defaults') })
      const listed = JSON.parse((await runCli(['subscriptions', ...node.args, '--json'])).stdout) as Array<{ id: string, sink: Record<string, unknown> }>
      expect(listed.find((s) => s.id === 'limits')?.sink).toMatchObject({ maxAttempts: 3, maxAgeSeconds: 600, timeoutMs: 2000 })
      expect(listed.find((s) => s.id === 'defaults')?.sink).toMatchObject({ maxAttempts: 10, maxAgeSeconds: 86400, timeoutMs: 10000 })

      const noHook = await runCli(['subscribe', ...node.args, '--class', '*', '--max-attempts', '3'])
      expect(noHook.code).toBe(2)
      expect(noHook.stderr).toContain('--max-attempts applies to webhook deliveries: add --webhook URL')
      expect((await runCli(['subscribe', ...node.args, '--class', '*', '--webhook', 'http://127.0.0.1:9/', '--max-age', 'a day'])).code).toBe(2)
      const outOfRange = await runCli(['subscribe', ...node.args, '--class', '*', '--webhook', 'http://127.0.0.1:9/', '--max-attempts', '1000'])
      expect(outOfRange.code).toBe(1)
      expect(outOfRange.stderr).toContain('/sink/maxAttempts')
    })
  })

  describe('tail', () => {
    /** `cdgossip tail --json ...args` running; its events so far; stopped when the test ends. */
    function tail (args: string[]): { ids: () => string[], stderr: () => string } {
      const child = spawn(process.execPath, [BIN, 'tail', ...node.args, '--json', ...args], { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      child.stdout.on('data', (c: Buffer) => { out += c.toString('utf8') })
      child.stderr.on('data', (c: Buffer) => { err += c.toString('utf8') })
      const closed = new Promise<void>((resolve) => child.once('close', () => { resolve() }))
      onTestFinished(async () => {
        child.kill('SIGTERM')
        await closed
      })
      return {
        ids: () => lines(out).map((l) => (JSON.parse(l) as EventView).cdevent.context.id),
        stderr: () => err
      }
    }

    /** Publishes a fresh artifact event until `seen` shows one (the tail is then live); returns the first seen. */
    async function untilLive (seen: () => string[]): Promise<string[]> {
      const sent: string[] = []
      await waitFor(async () => {
        const event = artifactPublished()
        sent.push(idOf(event))
        await node.api().request('POST', '/v1/events', { json: event })
        return seen().some((id) => sent.includes(id))
      }, { timeout: 15_000, message: 'the tail to show a new event' })
      return sent
    }

    it('starts with new events by default, like tail -f', async () => {
      const old = artifactPublished()
      await node.api().request('POST', '/v1/events', { json: old })
      const t = tail([])
      const sent = await untilLive(t.ids)
      expect(t.ids()).not.toContain(idOf(old))
      expect(t.ids().every((id) => sent.includes(id))).toBe(true)
    })

    it('-n N shows the last N matching events first; --from-beginning replays everything', async () => {
      const recent = [artifactPublished(), artifactPublished(), artifactPublished()]
      await node.api().request('POST', '/v1/events', { json: recent })
      await node.api().request('POST', '/v1/events', { json: pipelineRunFinished() })
      const last2 = tail(['-n', '2', '--type', 'artifact.*'])
      await waitFor(() => last2.ids().length >= 2, { message: 'the last two artifact events' })
      expect(last2.ids().slice(0, 2)).toEqual(recent.slice(1).map(idOf))
      await untilLive(last2.ids)

      const everything = tail(['--from-beginning'])
      const total = await storedCount()
      await waitFor(() => everything.ids().length >= total, { message: 'the whole store replayed' })
      expect(new Set(everything.ids()).size).toBe(everything.ids().length)

      expect((await runCli(['tail', ...node.args, '-n', '3', '--from-beginning'])).code).toBe(2)
      expect((await runCli(['tail', ...node.args, '-n', 'all'])).code).toBe(2)
    })
  })
})
