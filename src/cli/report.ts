import { isCdgossipError } from '../errors.js'
import { UsageError } from './args.js'
import { ApiError } from './client.js'
import { EXIT } from './command.js'
import type { Out } from './command.js'

/** Walks `cause` links (bounded: a cycle must not hang the error path). */
export function causes (e: unknown): unknown[] {
  const out: unknown[] = []
  for (let c = (e as { cause?: unknown } | undefined)?.cause; c !== undefined && c !== null && out.length < 8; c = (c as { cause?: unknown }).cause) out.push(c)
  return out
}

/** `event 3 (id abc): ` for a problem of a refused batch (the API's index counts from 0, people from 1). */
function inBatch (problem: { index?: unknown, id?: unknown }): string {
  if (typeof problem.index !== 'number') return ''
  return `event ${problem.index + 1}${typeof problem.id === 'string' ? ` (id ${problem.id})` : ''}: `
}

/** A CloudEvent/CDEvent disagreement as a line: which attribute, what each side says. */
function describeMismatch (m: unknown): string {
  if (typeof m !== 'object' || m === null) return String(m)
  const { attribute, cloudEvent, cdevent, ...rest } = m as { attribute?: unknown, cloudEvent?: unknown, cdevent?: unknown, index?: unknown, id?: unknown }
  if (typeof attribute !== 'string') return JSON.stringify(m)
  const implied = cdevent === undefined ? 'a valid value' : JSON.stringify(cdevent)
  return `${inBatch(rest)}CloudEvent ${attribute}: ${cloudEvent === undefined ? 'missing' : JSON.stringify(cloudEvent)}, the CDEvent implies ${implied}`
}

/**
 * A command's failure as lines on stderr and an exit code: usage 2, a refusal or a failure 1, a
 * configuration problem or an unreachable node 3. Anything unexpected (a bug) is rethrown, so
 * it keeps its stack.
 */
export function reportFailure (command: string, e: unknown, err: Out): number {
  if (e instanceof UsageError) {
    err(`cdgossip ${command}: ${e.message}`)
    return EXIT.USAGE
  }
  if (e instanceof ApiError) {
    err(`cdgossip ${command}: ${e.statusCode} ${e.details?.code ?? ''}: ${e.message}`)
    // a field error's one violation repeats the message: print it once
    const violations = (e.details?.violations ?? []).filter(v => v.message !== e.message)
    for (const v of violations) err(`  ${inBatch(v)}${v.path === '' ? '/' : v.path}: ${v.message}`)
    for (const m of e.details?.mismatches ?? []) err(`  ${describeMismatch(m)}`)
    return EXIT.FAILED
  }
  if (isCdgossipError(e)) {
    // the causes say why (LevelDB's, the OS's): "store open failed" alone helps nobody
    const why = causes(e).map(c => (c as Error)?.message?.split('\n')[0]).filter((m): m is string => typeof m === 'string' && m !== '' && !e.message.includes(m))
    err(`cdgossip ${command}: ${e.message}${why.length > 0 ? ` (${why.join(': ')})` : ''}`)
    return e.code === 'CDG_CONFIG' || e.code === 'CDG_NOT_STARTED' ? EXIT.CONFIG : EXIT.FAILED
  }
  const code = (e as NodeJS.ErrnoException).code
  // the file system said no (missing input file, a data dir that is a file, no permission)
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST') {
    err(`cdgossip ${command}: ${(e as Error).message}`)
    return EXIT.FAILED
  }
  throw e
}
