/**
 * `npm run demo`: three CI/CD communities (onap, opnfv, tekton) as real cdgossip nodes on this
 * machine, trusting and subscribing to each other over their REST APIs, then one cross-community
 * CDEvents chain from a merged change to a deployment. Prints what each community received,
 * stops the nodes and removes their data. Exit 0 when everything arrived, 1 otherwise, 130 on
 * Ctrl-C.
 *
 *   node dist/scripts/demo.js [--timeout <ms>] [--log-level <level>]
 */
import '../src/polyfill.js'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { isCdgossipError } from '../src/errors.js'
import { DemoAbortedError, DemoTimeoutError, WAIT_TIMEOUT_MS, runDemo } from './demo/index.js'
import type { DemoLogLevel, DemoOptions } from './demo/index.js'

export const EXIT_OK = 0
export const EXIT_FAILED = 1
/** 128 + SIGINT, as shells report an interrupted command */
export const EXIT_INTERRUPTED = 130

const LOG_LEVELS: readonly DemoLogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

const USAGE = `usage: npm run demo [-- [--timeout <ms>] [--log-level <level>]]
  --timeout <ms>        deadline of each wait (default ${WAIT_TIMEOUT_MS})
  --log-level <level>   node logs: ${LOG_LEVELS.join(', ')} (default silent)`

export interface MainOptions extends Omit<DemoOptions, 'out'> {
  out: (text: string) => void
  err: (text: string) => void
}

/** Runs the demo; returns the process exit code and never throws. */
export async function main (argv: string[], options: MainOptions): Promise<number> {
  const { out, err, ...demoOptions } = options
  let parsed: { timeout?: string, 'log-level'?: string, help?: boolean }
  try {
    parsed = parseArgs({
      args: argv,
      options: { timeout: { type: 'string' }, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true
    }).values
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}\n`)
    return EXIT_FAILED
  }
  if (parsed.help === true) {
    out(`${USAGE}\n`)
    return EXIT_OK
  }
  if (parsed.timeout !== undefined) {
    const timeoutMs = Number(parsed.timeout)
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
      err(`--timeout must be a positive number of milliseconds, got ${parsed.timeout}\n`)
      return EXIT_FAILED
    }
    demoOptions.timeoutMs = timeoutMs
  }
  if (parsed['log-level'] !== undefined) {
    const level = LOG_LEVELS.find(l => l === parsed['log-level'])
    if (level === undefined) {
      err(`--log-level must be one of ${LOG_LEVELS.join(', ')}\n`)
      return EXIT_FAILED
    }
    demoOptions.logLevel = level
  }

  try {
    await runDemo({ ...demoOptions, out: line => { out(`${line}\n`) } })
    return EXIT_OK
  } catch (e) {
    // an abort also surfaces as a failed request (fetch aborted): the signal says what happened
    if (e instanceof DemoAbortedError || demoOptions.signal?.aborted === true) {
      err('\ncdgossip demo interrupted; nodes stopped and the temp dir removed\n')
      return EXIT_INTERRUPTED
    }
    if (e instanceof DemoTimeoutError) {
      err(`\ncdgossip demo failed (${e.code}): ${e.message}\n(nodes stopped and the temp dir removed)\n`)
      return EXIT_FAILED
    }
    err(`\ncdgossip demo failed: ${describe(e)}\n`)
    return EXIT_FAILED
  }
}

function describe (e: unknown): string {
  if (e instanceof AggregateError) return `${e.message}:\n${e.errors.map(x => `  - ${describe(x)}`).join('\n')}`
  if (isCdgossipError(e)) return `${e.message} (${e.code})`
  return e instanceof Error ? (e.stack ?? e.message) : String(e)
}

function invokedDirectly (): boolean {
  const entry = process.argv[1]
  return entry !== undefined && path.resolve(entry) === fileURLToPath(import.meta.url)
}

if (invokedDirectly()) {
  const controller = new AbortController()
  let interrupts = 0
  const onSignal = (): void => {
    // a second Ctrl-C while nodes are stopping: give up on a clean stop
    if (++interrupts > 1) process.exit(EXIT_INTERRUPTED)
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const code = await main(process.argv.slice(2), {
    out: text => { process.stdout.write(text) },
    err: text => { process.stderr.write(text) },
    signal: controller.signal
  })
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  process.exitCode = code
}
