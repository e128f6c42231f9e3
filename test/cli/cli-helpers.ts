/**
 * Helpers for tests that run the real `cdgossip` CLI (bin/cdgossip.js, the compiled dist/) as
 * child processes against real nodes, themselves started with `cdgossip start`.
 * `npm test` builds dist/ first; without it the CLI suites skip with a message.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiClient } from '../../src/cli/client.js'
import { waitFor } from '../helpers/wait-for.js'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const BIN = path.join(REPO_ROOT, 'bin', 'cdgossip.js')
export const BUILT = fs.existsSync(path.join(REPO_ROOT, 'dist', 'src', 'cli', 'index.js'))
export const SKIP_REASON = '(skipped: dist/ is not built; npm test builds it first)'

/** Deadline for one CLI command; they take well under a second. */
const COMMAND_TIMEOUT_MS = 30_000
/** Deadline for a node to write its api-url, and for a stop. */
export const NODE_TIMEOUT_MS = 20_000

/** The test process's environment minus every CDGOSSIP_* variable, so nothing leaks in. */
export function cleanEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CDGOSSIP_')) env[k] = v
  return { ...env, ...extra }
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs `cdgossip ...args` to completion. */
export async function runCli (args: string[], options: { input?: string, env?: Record<string, string> } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8') })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8') })
  child.stdin.end(options.input ?? '')
  const timer = setTimeout(() => { child.kill('SIGKILL') }, COMMAND_TIMEOUT_MS)
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (c, s) => { resolve([c, s]) })
    })
    return { code, signal, stdout, stderr }
  } finally {
    clearTimeout(timer)
  }
}

export { waitFor }

/** A port nothing listens on: bound, then released. */
export async function closedPort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return port
}

/** A temp dir; the caller removes it (tests use onTestFinished, suites afterAll). */
export async function makeTempDir (prefix = 'cdgossip-cli-'): Promise<string> {
  return await fsp.mkdtemp(path.join(os.tmpdir(), prefix))
}

export async function removeDir (dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true })
}

/** A `cdgossip start` child process and what a test needs to talk to it. */
export class CliNode {
  readonly dataDir: string
  readonly child: ChildProcess
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  apiUrl = ''
  token = ''
  private out = ''
  private err = ''

  constructor (dataDir: string, child: ChildProcess) {
    this.dataDir = dataDir
    this.child = child
    child.stdout?.on('data', (c: Buffer) => { this.out += c.toString('utf8') })
    child.stderr?.on('data', (c: Buffer) => { this.err += c.toString('utf8') })
    this.exited = new Promise((resolve) => { child.once('exit', (code, signal) => { resolve({ code, signal }) }) })
  }

  get stdout (): string {
    return this.out
  }

  get stderr (): string {
    return this.err
  }

  get running (): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** A REST client for checks the CLI is not under test for. */
  api (): ApiClient {
    return new ApiClient({ baseUrl: this.apiUrl, token: this.token, timeoutMs: 15_000 })
  }

  /** `--data-dir` for client commands. */
  get args (): string[] {
    return ['--data-dir', this.dataDir]
  }

  /** The p2p address others bootstrap to, as `start` printed it. */
  p2pAddress (): string {
    const line = this.out.split('\n').find((l) => l.includes('p2p ') && l.includes('/ip4/127.0.0.1/'))
    const addr = line?.trim().split(/\s+/)[1]
    if (addr === undefined) throw new Error(`no 127.0.0.1 p2p address in the start output:\n${this.out}`)
    return addr
  }

  /** SIGTERM and wait for the exit (SIGKILL if it does not come); returns the exit. */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null, signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal)
    const timer = setTimeout(() => { this.child.kill('SIGKILL') }, NODE_TIMEOUT_MS)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }
}

/**
 * `cdgossip start --data-dir D` on ephemeral ports, quiet logs; resolves once the node has
 * written its api-url (so it listens). `extraArgs` go after the defaults (flags win).
 */
export async function startNode (dataDir: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<CliNode> {
  const urlFile = path.join(dataDir, 'api-url')
  fs.rmSync(urlFile, { force: true })
  const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--api-port', '0', '--listen', '/ip4/127.0.0.1/tcp/0', '--log-level', 'warn', ...extraArgs], {
    cwd: REPO_ROOT,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const node = new CliNode(dataDir, child)
  try {
    await waitFor(() => {
      if (!node.running) throw new Error(`the node exited during start:\n${node.stdout}\n${node.stderr}`)
      node.apiUrl = fs.existsSync(urlFile) ? fs.readFileSync(urlFile, 'utf8').trim() : ''
      // the started banner follows the api-url: wait for it too, tests read it
      return /^http:\/\/\S+$/.test(node.apiUrl) && node.stdout.includes('Stop with')
    }, { timeout: NODE_TIMEOUT_MS, message: `the node in ${dataDir} to start` })
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
  node.token = fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim()
  return node
}

// ---- CDEvents v0.5.1 fixtures ------------------------------------------------------------------

export const SOURCE = 'https://ci.cli-test.example/jenkins'

/** A valid `dev.cdevents.artifact.published.0.3.0` with a unique id. */
export function artifactPublished (options: { id?: string, subject?: string, source?: string } = {}): Record<string, unknown> {
  const id = options.id ?? `cli-${randomUUID()}`
  const source = options.source ?? SOURCE
  return {
    context: { specversion: '0.5.1', id, source, type: 'dev.cdevents.artifact.published.0.3.0', timestamp: new Date().toISOString() },
    subject: { id: options.subject ?? `pkg:generic/${id}@1.0.0`, source, content: { sbom: { uri: `https://sbom.example.org/${id}.spdx.json` }, user: 'release-bot' } }
  }
}

/** A valid `dev.cdevents.pipelinerun.finished.0.3.0`. */
export function pipelineRunFinished (options: { id?: string, outcome?: string } = {}): Record<string, unknown> {
  const id = options.id ?? `cli-${randomUUID()}`
  return {
    context: { specversion: '0.5.1', id, source: SOURCE, type: 'dev.cdevents.pipelinerun.finished.0.3.0', timestamp: new Date().toISOString() },
    subject: { id: `run-${id}`, source: SOURCE, content: { pipelineName: 'build', uri: `https://ci.cli-test.example/runs/${id}`, outcome: options.outcome ?? 'success' } }
  }
}

/** Non-empty output lines. */
export const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '')
