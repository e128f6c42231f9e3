import { parseArgs } from 'node:util'
import type { ParseArgsConfig } from 'node:util'

/**
 * Command-line handling shared by the bench's scripts (index, node-cpu, soak, receive-alloc, open-record, http-floor,
 * store-entries, leveldb-entry-cost):
 * `--help` prints the usage, and a wrong option or value is one line and the usage on stderr with
 * exit code 2, not a stack trace.
 */

/** A wrong option or value; `exitWith` reports it with the usage. */
export class UsageError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

type Options = NonNullable<ParseArgsConfig['options']>

const HELP = { help: { type: 'boolean', short: 'h' } } as const

type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O & typeof HELP, strict: true }>>['values']

/**
 * The script's option values, parsed strictly from process.argv. On `--help` (or `-h`) it prints
 * `usage` and exits 0; an unknown option, a missing value or a positional argument is a UsageError.
 */
export function scriptArgs<O extends Options> (usage: string, options: O): Values<O> {
  return parseScriptArgs(usage, options, false).values
}

/** scriptArgs for a script that also takes positional arguments (the main bench's parts). */
export function scriptArgsWithPositionals<O extends Options> (usage: string, options: O): { values: Values<O>, positionals: string[] } {
  return parseScriptArgs(usage, options, true)
}

function parseScriptArgs<O extends Options> (usage: string, options: O, allowPositionals: boolean): { values: Values<O>, positionals: string[] } {
  const config = { args: process.argv.slice(2), strict: true as const, allowPositionals, options: { ...options, ...HELP } }
  let parsed: { values: Values<O>, positionals: string[] }
  try {
    parsed = parseArgs(config)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    process.stdout.write(usage + '\n')
    process.exit(0)
  }
  return parsed
}

/** The option's value as an integer >= `min` (1 unless given), `fallback` when absent; anything else is a UsageError. */
export function integerOption (value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${name} takes ${min === 1 ? 'a positive integer' : `an integer of at least ${min}`}, got ${JSON.stringify(value)}`)
  }
  return n
}

/**
 * The end of a script's `main()`: exit 0, or report the error and exit non-zero. A UsageError
 * is one line and the usage (exit 2); anything else is printed whole after `cleanup` (exit 1).
 */
export function exitWith (main: Promise<void>, usage: string, cleanup: () => Promise<void> = async () => {}): void {
  main.then(() => process.exit(0), async (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n${usage}\n`)
      process.exit(2)
    }
    console.error(err)
    await cleanup()
    process.exit(1)
  })
}
