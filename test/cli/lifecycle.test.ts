/**
 * `cdgossip start` as a service manager runs it: SIGTERM stops it gracefully (exit 0, api-url
 * removed, every acknowledged event there after a restart), a second signal exits at once (130),
 * `tail` follows the node across the restart without missing or repeating an event, and start-up
 * mistakes exit 3 with a message that names them.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
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

const TITLE = 'cdgossip start lifecycle'

async function tempDir (prefix?: string): Promise<string> {
  const dir = await makeTempDir(prefix)
  onTestFinished(async () => { await removeDir(dir) })
  return dir
}

/** A started node, SIGKILLed at the end of the test if it is still running. */
async function started (dataDir: string, args: string[] = []): Promise<CliNode> {
  const node = await startNode(dataDir, args)
  onTestFinished(async () => {
    if (node.running) {
      node.child.kill('SIGKILL')
      await node.exited
    }
  })
  return node
}

/**
 * `cdgossip tail --json --from-beginning` in the background, collecting what it prints (from the
 * beginning: the events published right after it starts must not depend on when it connects).
 */
function startTail (dataDir: string): { views: () => EventView[], stderr: () => string, stop: () => Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'tail', '--data-dir', dataDir, '--json', '--from-beginning'], { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString('utf8') })
  child.stderr.on('data', (c: Buffer) => { err += c.toString('utf8') })
  const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  return {
    // only complete lines: the last one may be mid-write
    views: () => out.split('\n').slice(0, -1).filter((l) => l !== '').map((l) => JSON.parse(l) as EventView),
    stderr: () => err,
    stop: async () => {
      child.kill('SIGINT')
      return await exited
    }
  }
}

async function publish (node: CliNode, events: unknown[]): Promise<string[]> {
  const { body } = await node.api().request<Array<{ digest: string }>>('POST', '/v1/events', { json: events })
  return body.map((r) => r.digest)
}

async function storedDigests (node: CliNode): Promise<string[]> {
  const { body } = await node.api().request<{ events: EventView[] }>('GET', '/v1/events?limit=1000')
  return body.events.map((e) => e.digest)
}

describe.skipIf(!BUILT)(BUILT ? TITLE : `${TITLE} ${SKIP_REASON}`, () => {
  it('SIGTERM stops gracefully; a restart has every acknowledged event; tail resumes with nothing missed or repeated', async () => {
    const dir = await tempDir('cdgossip-cli-life-')
    const first = await started(dir)
    const tail = startTail(dir)

    const before = await publish(first, [artifactPublished(), pipelineRunFinished(), artifactPublished()])
    await waitFor(() => tail.views().length >= before.length, { message: 'tail to print the first events' })

    // more acknowledged right before the signal: they must survive the stop
    const late = await publish(first, [artifactPublished(), artifactPublished()])
    const exit = await first.stop('SIGTERM')
    expect(exit).toEqual({ code: 0, signal: null })
    expect(fs.existsSync(path.join(dir, 'api-url'))).toBe(false)
    expect(first.stderr).toBe('')

    // while the node is down, tail keeps trying, quietly
    const second = await started(dir)
    expect(second.apiUrl).not.toBe(first.apiUrl)
    const acknowledged = [...before, ...late]
    expect((await storedDigests(second)).sort()).toEqual([...acknowledged].sort())

    const after = await publish(second, [pipelineRunFinished(), artifactPublished()])
    const all = [...acknowledged, ...after]
    await waitFor(() => tail.views().length >= all.length, { timeout: 30_000, message: `tail to print ${all.length} events across the restart (has ${tail.views().length}; stderr: ${tail.stderr()})` })
    // in store order, each once
    expect(tail.views().map((v) => v.digest)).toEqual(all)
    expect(tail.views().every((v) => v.origin === tail.views()[0]?.origin)).toBe(true)

    expect(await tail.stop()).toBe(0)
    expect(tail.stderr()).toBe('')
    expect(await second.stop('SIGINT')).toEqual({ code: 0, signal: null })
  })

  it('a second signal during the stop exits at once with 130', async () => {
    const dir = await tempDir('cdgossip-cli-twice-')
    const node = await started(dir)
    // two different signals: two of one kind may merge into one before the process sees them
    node.child.kill('SIGTERM')
    node.child.kill('SIGINT')
    const exit = await node.exited
    expect(exit).toEqual({ code: 130, signal: null })
  })

  it('tail of a node that is not running exits 3 at once', async () => {
    const dir = await tempDir()
    expect((await runCli(['init', '--data-dir', dir, '--api-port', '1'])).code).toBe(0)
    const result = await runCli(['tail', '--data-dir', dir])
    expect(result.code).toBe(3)
    expect(result.stderr).toContain('cannot reach the cdgossip node')
  })

  describe('start-up mistakes exit 3 and say what to fix', () => {
    it('a bad config file names the key; nothing is left listening', async () => {
      const dir = await tempDir()
      await fsp.writeFile(path.join(dir, 'config.yaml'), 'p2p:\n  heartbeatMs: 5\nlog:\n  levle: info\n')
      const result = await runCli(['start', '--data-dir', dir, '--api-port', '0'])
      expect(result.code).toBe(3)
      expect(result.stderr).toContain('p2p.heartbeatMs: must be >= 50')
      expect(result.stderr).toContain('config.yaml: log.levle: unknown field, did you mean level?')
      expect(fs.existsSync(path.join(dir, 'api-url'))).toBe(false)
    })

    it('a bad environment value names the variable', async () => {
      const dir = await tempDir()
      const result = await runCli(['start', '--data-dir', dir], { env: { CDGOSSIP_API_PORT: 'abc' } })
      expect(result.code).toBe(3)
      expect(result.stderr).toContain('env CDGOSSIP_API_PORT')
    })

    it('a token file others can read is refused with the chmod that fixes it', async () => {
      const dir = await tempDir()
      expect((await runCli(['init', '--data-dir', dir])).code).toBe(0)
      await fsp.chmod(path.join(dir, 'api-token'), 0o644)
      const result = await runCli(['start', '--data-dir', dir, '--api-port', '0', '--listen', '/ip4/127.0.0.1/tcp/0'])
      expect(result.code).toBe(3)
      expect(result.stderr).toContain(`chmod 600 ${path.join(dir, 'api-token')}`)
    })

    it('a second node on the same data dir, and a REST port in use', async () => {
      const dir = await tempDir()
      const running = await started(dir)
      const twice = await runCli(['start', '--data-dir', dir, '--api-port', '0', '--listen', '/ip4/127.0.0.1/tcp/0'])
      expect(twice.code).toBe(3)
      expect(twice.stderr).toContain(`the data dir ${dir} is in use by another cdgossip node`)
      // the running node's api-url is untouched
      expect(fs.readFileSync(path.join(dir, 'api-url'), 'utf8').trim()).toBe(running.apiUrl)

      const port = new URL(running.apiUrl).port
      const other = await tempDir()
      const busy = await runCli(['start', '--data-dir', other, '--api-port', port, '--listen', '/ip4/127.0.0.1/tcp/0'])
      expect(busy.code).toBe(3)
      expect(busy.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`))
      expect(lines(busy.stderr)).toHaveLength(1)
    })
  })
})
