import { pino, type Logger, type LoggerOptions } from 'pino'
import pretty from 'pino-pretty'

export type { Logger }

/**
 * Paths never written to logs: bearer tokens in request headers and any field named token.
 * Event bodies are never logged at info level by convention (components log digests and ids).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  '*.token'
]

export interface LoggerInit {
  level: string
  /** human-readable colourised lines instead of JSON; default when stdout is a TTY */
  pretty?: boolean
  /** bound on every line, to tell nodes apart when several run in one process */
  nodeName?: string
}

/** The one pino root of a node; components take children (`log.child({ component: 'p2p' })`). */
export function createLogger (init: LoggerInit): Logger {
  const options: LoggerOptions = {
    level: init.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: init.nodeName === undefined ? { pid: process.pid } : { pid: process.pid, node: init.nodeName }
  }
  const usePretty = init.pretty ?? process.stdout.isTTY === true
  if (usePretty) {
    return pino(options, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true }))
  }
  return pino(options)
}

/** For tests and embedded use: a logger that writes nothing. */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}
