/**
 * `cdgossip source add|list|remove|test` (child processes) against a node started with
 * `cdgossip start`, and a webhook through the hooks listener of such a node.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { standardTypeOf } from '../../src/events/index.js'
import { BUILT, REPO_ROOT, SKIP_REASON, lines, makeTempDir, removeDir, runCli, startNode } from './cli-helpers.js'
import type { CliNode } from './cli-helpers.js'

const TITLE = 'cdgossip source'
const SECRET = 'cli-hooks-secret-value'
const FIXTURES = path.join(REPO_ROOT, 'test', 'hooks', 'fixtures', 'jenkins')

async function tempDir (): Promise<string> {
  const dir = await makeTempDir()
  onTestFinished(async () => { await removeDir(dir) })
  return dir
}

async function started (dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<CliNode> {
  const node = await startNode(dir, args, env)
  onTestFinished(async () => { await node.stop() })
  return node
}

describe.skipIf(!BUILT)(BUILT ? TITLE : `${TITLE} ${SKIP_REASON}`, () => {
  it('source add, list, test and remove; the secret is never printed', async () => {
    const dir = await tempDir()
    const node = await started(dir, ['--hooks-port', '0'])
    expect(node.stdout).not.toContain('hooks ')
    const secretFile = path.join(dir, 'jenkins.secret')
    await fs.writeFile(secretFile, SECRET + '\n', { mode: 0o600 })

    const add = await runCli(['source', 'add', ...node.args, '--name', 'ci', '--kind', 'jenkins', '--secret-file', secretFile, '--setting', 'user=jenkins'])
    expect(add.stderr).toBe('')
    expect(add.code).toBe(0)
    expect(add.stdout).toContain('source ci (jenkins) added')
    expect(add.stdout).toMatch(/webhook URL {2}http:\/\/127\.0\.0\.1:\d+\/hooks\/ci/)

    const list = await runCli(['source', 'list', ...node.args])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/hooks listener: http:\/\/127\.0\.0\.1:\d+/)
    const row = lines(list.stdout).find(l => l.startsWith('ci '))
    expect(row?.split(/\s+/).slice(0, 4)).toEqual(['ci', 'jenkins', 'api', 'active'])
    expect(list.stdout + add.stdout).not.toContain(SECRET)

    const test = await runCli(['source', 'test', ...node.args, '--name', 'ci', path.join(FIXTURES, 'notification-started.json')])
    expect(test.code).toBe(0)
    expect(test.stdout).toContain('1 CDEvent (not published)')
    expect(test.stdout).toContain(standardTypeOf('pipelinerun.started'))
    const ignored = await runCli(['source', 'test', ...node.args, '--name', 'ci', path.join(FIXTURES, 'notification-readme-completed.json')])
    expect(ignored.code).toBe(0)
    expect(ignored.stdout).toMatch(/^no CDEvent: ignored \(.+\)/)
    const bad = path.join(dir, 'bad.json')
    await fs.writeFile(bad, '{"build": 1}')
    const malformed = await runCli(['source', 'test', ...node.args, '--name', 'ci', bad])
    expect(malformed.code).toBe(1)
    expect(malformed.stderr).toContain('400')
    // test publishes nothing
    const { body } = await node.api().request<{ store: { events: number } }>('GET', '/v1/node')
    expect(body.store.events).toBe(0)

    const remove = await runCli(['source', 'remove', ...node.args, 'ci'])
    expect(remove.code).toBe(0)
    expect(remove.stdout.trim()).toBe('removed source ci')
    expect((await runCli(['source', 'list', ...node.args])).stdout.trim()).toBe('no sources')
    expect((await runCli(['source', 'remove', ...node.args, 'ci'])).code).toBe(1)
  })

  it('usage errors exit 2 and send nothing', async () => {
    const dir = await tempDir()
    const noSecret = await runCli(['source', 'add', '--data-dir', dir, '--name', 'ci', '--kind', 'jenkins'])
    expect(noSecret.code).toBe(2)
    expect(noSecret.stderr).toContain('exactly one of --secret-file and --secret-env')
    expect((await runCli(['source', 'frobnicate', '--data-dir', dir])).code).toBe(2)
    expect((await runCli(['source', 'test', '--data-dir', dir, '--name', 'ci'])).code).toBe(2)
    expect((await runCli(['source', 'add', '--data-dir', dir, '--name', 'ci', '--kind', 'jenkins', '--secret-env', 'X', '--setting', 'novalue'])).code).toBe(2)
  })

  it('a config file source with its secret in the environment: start prints the hooks URL and a delivery with the token is published', async () => {
    const dir = await tempDir()
    await fs.writeFile(path.join(dir, 'config.yaml'), 'sources:\n  - name: jenkins\n    kind: jenkins\n    secretEnv: JENKINS_HOOK_TOKEN\n')
    const node = await started(dir, ['--hooks-port', '0'], { JENKINS_HOOK_TOKEN: SECRET })
    const url = /hooks {5}(http:\/\/\S+)\/hooks\/<source>/.exec(node.stdout)?.[1]
    expect(url).toBeDefined()
    const payload = await fs.readFile(path.join(FIXTURES, 'notification-started.json'))
    const forged = await fetch(`${url ?? ''}/hooks/jenkins`, { method: 'POST', body: payload, headers: { authorization: `Bearer ${node.token}` } })
    expect(forged.status).toBe(401)
    const res = await fetch(`${url ?? ''}/hooks/jenkins`, { method: 'POST', body: payload, headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' } })
    expect(res.status).toBe(202)
    const list = await runCli(['source', 'list', ...node.args])
    expect(lines(list.stdout).find(l => l.startsWith('jenkins '))?.split(/\s+/).slice(0, 8)).toEqual(['jenkins', 'jenkins', 'config', 'active', 'env', 'JENKINS_HOOK_TOKEN', '2', '1'])
    expect(node.stdout + node.stderr + list.stdout).not.toContain(SECRET)
  })
})
