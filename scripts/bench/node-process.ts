import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chooseMalloc, chooseYoungGeneration, thisProcess, thisYoungGeneration } from '../../src/cli/memory-setup.js'
import { dataDirPaths, initDataDir, readApiToken } from '../../src/data-dir.js'
import { loadOrCreateIdentity } from '../../src/signing/index.js'
import { HttpClient } from './http-load.js'
import { onCleanup, trackChild } from './resources.js'
import { memoryOf } from './stats.js'

/**
 * A cdgossip node as its own OS process (`node bin/cdgossip.js start --data-dir D`), the way a
 * community runs it: its own event loop, its own heap, and /proc/<pid>/status for its memory.
 */

/**
 * bin/cdgossip.js, from dist/scripts/bench/ (compiled). CDGOSSIP_BENCH_BIN runs the node
 * processes from another build instead (A/B comparisons of a change; in-process parts still
 * use this checkout's dist).
 */
export const CDGOSSIP_BIN = process.env.CDGOSSIP_BENCH_BIN ?? fileURLToPath(new URL('../../../bin/cdgossip.js', import.meta.url))
/**
 * Extra Node.js flags for every node process (CDGOSSIP_BENCH_NODE_FLAGS, space-separated), e.g.
 * `--max-semi-space-size=4` to see what a V8 setting does to a node's memory and CPU.
 */
export const NODE_FLAGS: readonly string[] = (process.env.CDGOSSIP_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(f => f !== '')
/**
 * A shared library preloaded into every node process and into nothing else (CDGOSSIP_BENCH_NODE_PRELOAD,
 * given to them as LD_PRELOAD), e.g. another allocator, to compare allocators without changing the
 * bench client's. Without it the nodes choose their own (`cdgossip start` preloads jemalloc when installed).
 */
const NODE_PRELOAD = process.env.CDGOSSIP_BENCH_NODE_PRELOAD ?? ''

/**
 * The malloc every node process runs with, as `cdgossip start` decides it for the environment the
 * bench gives them (they run on this same Node.js): jemalloc when installed, unless
 * CDGOSSIP_MALLOC=system or CDGOSSIP_BENCH_NODE_PRELOAD says otherwise.
 */
export function nodeMalloc (): string {
  if (NODE_PRELOAD !== '') return `LD_PRELOAD=${NODE_PRELOAD} (CDGOSSIP_BENCH_NODE_PRELOAD)`
  // a node process starts without the bench's own libraries loaded
  const decision = chooseMalloc({ ...thisProcess(), loadedJemalloc: () => undefined })
  if (decision.action === 'reexec') return `jemalloc ${decision.library} (preloaded by \`cdgossip start\`; CDGOSSIP_MALLOC=system for the system's)`
  return decision.action === 'keep' ? decision.reason : decision.problem
}

/**
 * The young generation every node process runs with, as `cdgossip start` decides it for the flags
 * the bench gives them (CDGOSSIP_BENCH_NODE_FLAGS) on this same Node.js and machine.
 */
export function nodeYoungGeneration (): string {
  const decision = chooseYoungGeneration({ ...thisYoungGeneration(), execArgv: NODE_FLAGS })
  return decision.flag === undefined ? decision.reason : `${decision.flag} (set by \`cdgossip start\`; CDGOSSIP_BENCH_NODE_FLAGS=--max-semi-space-size=<MiB> for another)`
}

/**
 * A directory to keep every node process's whole output in (CDGOSSIP_BENCH_NODE_OUTPUT), as
 * `<name>.<pid>.log`: what V8 prints with `--trace-gc` in CDGOSSIP_BENCH_NODE_FLAGS, say. Without
 * it only the output's tail is kept, for error messages.
 */
const NODE_OUTPUT = process.env.CDGOSSIP_BENCH_NODE_OUTPUT ?? ''
/** Gossip network of every bench node: topics are `cdgossip/bench/<class>`. */
export const BENCH_NETWORK = 'bench'
/** Start (REST up, p2p listening) must take less than this. */
const START_TIMEOUT_MS = 30_000
/** A graceful stop (API closes, LevelDB flushes) longer than this is cut short with SIGKILL. */
const STOP_TIMEOUT_MS = 15_000
/** stdout/stderr kept for error messages (the nodes log at info) */
const OUTPUT_TAIL = 4000

export interface NodeProcessConfig {
  bootstrap?: string[]
  /** peer IDs this node trusts for every source and class */
  trust?: Array<{ peerId: string, name: string }>
  /** class patterns this node stores (one `store` subscription starting `now`) */
  subscribe?: string[]
  /** @default 1000 (the default config's, i.e. production gossipsub timing) */
  heartbeatMs?: number
  /** @default 30 (the default config's) */
  syncIntervalSeconds?: number
}

export interface NodeMemory {
  peakRssMiB: number
  rssMiB: number
}

export class NodeProcess {
  readonly name: string
  readonly dataDir: string
  readonly peerId: string
  readonly token: string
  apiUrl = ''
  /** `/ip4/127.0.0.1/tcp/<port>/p2p/<id>` once started */
  address = ''
  /** memory read just before the last stop (VmHWM is the peak of that process's life) */
  lastMemory: NodeMemory | undefined
  private child: ChildProcess | undefined
  private exited: Promise<void> | undefined
  private output = ''
  private client: HttpClient | undefined
  private unregister: (() => void) | undefined

  private constructor (name: string, dataDir: string, peerId: string, token: string) {
    this.name = name
    this.dataDir = dataDir
    this.peerId = peerId
    this.token = token
  }

  /** Initialises the data dir (token, identity) so the peer ID is known before the node starts. */
  static async create (name: string, dataDir: string): Promise<NodeProcess> {
    await initDataDir(dataDir)
    const identity = await loadOrCreateIdentity(dataDirPaths(dataDir).identity)
    return new NodeProcess(name, dataDir, identity.peerId, await readApiToken(dataDir))
  }

  /** Writes the node's config file (JSON is YAML, and config.yaml is the name the node reads first). */
  async configure (config: NodeProcessConfig): Promise<void> {
    const file = {
      network: BENCH_NETWORK,
      api: { host: '127.0.0.1', port: 0 },
      p2p: {
        listen: ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: config.bootstrap ?? [],
        mdns: false,
        heartbeatMs: config.heartbeatMs ?? 1000
      },
      sync: { intervalSeconds: config.syncIntervalSeconds ?? 30 },
      trust: {
        mode: 'allowlist',
        communities: (config.trust ?? []).map(t => ({ peerId: t.peerId, name: t.name, sources: ['*'] }))
      },
      subscriptions: (config.subscribe ?? []).length === 0
        ? []
        : [{ id: 'bench', classes: config.subscribe, filter: {}, includeUntrusted: false, start: { kind: 'now' }, sink: { type: 'store' } }],
      // the default level, as operators run it: what the node logs per request or event is part of its cost
      log: { level: 'info' }
    }
    await writeFile(dataDirPaths(this.dataDir).config, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 })
  }

  get pid (): number | undefined {
    return this.child?.pid
  }

  get running (): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  api (): HttpClient {
    if (this.client === undefined) throw new Error(`${this.name} is not started`)
    return this.client
  }

  /** Spawn and wait until the node printed its REST URL and p2p address. `nodeArgs` e.g. --cpu-prof. */
  async start (nodeArgs: string[] = []): Promise<void> {
    if (this.running) return
    this.output = ''
    const child = spawn(process.execPath, [...NODE_FLAGS, ...nodeArgs, CDGOSSIP_BIN, 'start', '--data-dir', this.dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CDGOSSIP_LOG_LEVEL: 'info', ...(NODE_PRELOAD === '' ? {} : { LD_PRELOAD: NODE_PRELOAD }) }
    })
    this.child = child
    trackChild(child)
    this.exited = new Promise(resolve => { child.once('exit', () => { resolve() }) })
    this.unregister = onCleanup(`node ${this.name}`, async () => { await this.stop() })
    const whole = NODE_OUTPUT === '' ? undefined : createWriteStream(path.join(NODE_OUTPUT, `${this.name}.${child.pid ?? 0}.log`), { flags: 'a' })
    // 'close', not 'exit': output can still arrive between the two
    if (whole !== undefined) child.once('close', () => { whole.end() })
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL)
      whole?.write(chunk)
    }
    child.stderr?.on('data', keep)

    await new Promise<void>((resolve, reject) => {
      let stdout = ''
      let started = false
      const timer = setTimeout(() => { fail(new Error(`${this.name} did not start within ${START_TIMEOUT_MS} ms:\n${this.output}`)) }, START_TIMEOUT_MS)
      const done = (): void => { clearTimeout(timer); child.off('exit', onExit) }
      const fail = (err: Error): void => { done(); reject(err) }
      const onExit = (code: number | null): void => { fail(new Error(`${this.name} exited (code ${String(code)}) before it started:\n${this.output}`)) }
      child.once('exit', onExit)
      child.stdout?.on('data', (chunk: Buffer) => {
        keep(chunk)
        if (started) return
        stdout += chunk.toString('utf8')
        const api = /REST API\s+(\S+)[^\n]*\n/.exec(stdout)?.[1]
        const p2p = /^\s*p2p\s+(\/ip4\/127\.0\.0\.1\/\S+)\n/m.exec(stdout)?.[1]
        if (api === undefined || p2p === undefined) return
        started = true
        this.apiUrl = api
        this.address = p2p.includes('/p2p/') ? p2p : `${p2p}/p2p/${this.peerId}`
        done()
        resolve()
      })
    })
    this.client?.close()
    this.client = new HttpClient(this.apiUrl, this.token, 128)
  }

  /** The first match of `pattern` in what the running node printed since start, once it is there. */
  async waitForOutput (pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const child = this.child
    if (child === undefined) throw new Error(`${this.name} is not running`)
    let seen = this.output
    const already = pattern.exec(seen)
    if (already !== null) return already
    return await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => { finish(new Error(`${this.name} printed nothing matching ${String(pattern)} within ${timeoutMs} ms:\n${this.output}`)) }, timeoutMs)
      const onData = (chunk: Buffer): void => {
        seen = (seen + chunk.toString('utf8')).slice(-OUTPUT_TAIL)
        const match = pattern.exec(seen)
        if (match !== null) finish(match)
      }
      const onExit = (): void => { finish(new Error(`${this.name} exited while waiting for ${String(pattern)}:\n${this.output}`)) }
      const finish = (outcome: RegExpExecArray | Error): void => {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        child.stderr?.off('data', onData)
        child.off('exit', onExit)
        if (outcome instanceof Error) reject(outcome)
        else resolve(outcome)
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', onData)
      child.once('exit', onExit)
    })
  }

  async memory (): Promise<NodeMemory | undefined> {
    const pid = this.pid
    if (pid === undefined || !this.running) return undefined
    return await memoryOf(pid)
  }

  /** SIGTERM (graceful: the node closes its store), SIGKILL after STOP_TIMEOUT_MS. Idempotent. */
  async stop (): Promise<void> {
    const child = this.child
    if (child === undefined) return
    if (this.running) {
      this.lastMemory = await this.memory() ?? this.lastMemory
      child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, STOP_TIMEOUT_MS)
      await this.exited
      clearTimeout(timer)
    }
    this.client?.close()
    this.client = undefined
    this.child = undefined
    this.unregister?.()
    this.unregister = undefined
  }

  /**
   * Adds a `store` subscription starting `now` over the REST API. Unlike a config-file subscription
   * it is persisted with its creation time, so it survives a restart unchanged.
   */
  async subscribe (classes: string[]): Promise<void> {
    const body = { classes, filter: {}, includeUntrusted: false, start: { kind: 'now' }, sink: { type: 'store' } }
    const res = await this.api().request('POST', '/v1/subscriptions', Buffer.from(JSON.stringify(body)))
    if (res.status !== 201 && res.status !== 200) throw new Error(`${this.name}: POST /v1/subscriptions: HTTP ${res.status} ${res.text.slice(0, 300)}`)
  }

  /** Count of records in the node's store (GET /v1/node). */
  async storedCount (): Promise<number> {
    const info = await this.api().getJson<{ store: { events: number } }>('/v1/node')
    return info.store.events
  }

  describe (): string {
    return `${this.name} (pid ${this.pid ?? '-'}, ${this.apiUrl}, ${this.address})`
  }
}
