/**
 * A cdgossip node as a child process (the real CLI on the compiled dist/), for tests that kill
 * it with SIGKILL. Killed at test end if still running.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import { ApiClient } from '../../src/cli/client.js'
import type { EventView } from '../../src/events/event-view.js'
import { waitFor } from './nodes.js'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = path.join(REPO_ROOT, 'bin', 'cdgossip.js')
/** `npm test` builds dist/ first; suites skip with a message when it is absent. */
export const BUILT = fs.existsSync(path.join(REPO_ROOT, 'dist', 'src', 'cli', 'index.js'))

export interface RunningNode {
  child: ChildProcess
  api: ApiClient
  exited: Promise<number | null>
  stderr: () => string
}

export async function startChild (dataDir: string, extraArgs: string[] = []): Promise<RunningNode> {
  const urlFile = path.join(dataDir, 'api-url')
  // a SIGKILLed node leaves its api-url behind: wait for the new one
  fs.rmSync(urlFile, { force: true })
  const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--api-port', '0', '--p2p-port', '0', '--log-level', 'warn', ...extraArgs], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CDGOSSIP_API_URL: '', CDGOSSIP_TOKEN: '', CDGOSSIP_PEERS: '' }
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code) }))
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  let gone = false
  void exited.then(() => { gone = true })
  let baseUrl = ''
  await waitFor(() => {
    if (gone) throw new Error(`the node exited during start: ${stderr}`)
    // the file is written in place: it can exist before its content does
    baseUrl = fs.existsSync(urlFile) ? fs.readFileSync(urlFile, 'utf8').trim() : ''
    return /^http:\/\/[^\s]+$/.test(baseUrl)
  }, { timeout: 20_000, message: 'the node to write its api-url' })
  const token = fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim()
  return { child, api: new ApiClient({ baseUrl, token, timeoutMs: 10_000 }), exited, stderr: () => stderr }
}

export async function allViews (api: ApiClient): Promise<EventView[]> {
  const out: EventView[] = []
  let cursor: string | undefined
  for (;;) {
    const qs = cursor === undefined ? 'limit=1000' : `limit=1000&cursor=${encodeURIComponent(cursor)}`
    const { body } = await api.request<{ events: EventView[], next?: string }>('GET', `/v1/events?${qs}`)
    out.push(...body.events)
    if (body.next === undefined) return out
    cursor = body.next
  }
}

