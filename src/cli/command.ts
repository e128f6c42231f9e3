import type { ProgressStream } from './progress.js'

/**
 * Exit codes of every command: 0 success; 1 the operation failed (refused events, invalid
 * signatures, API errors); 2 usage error; 3 configuration error or node unreachable.
 */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, CONFIG: 3 } as const

/** Writes one line (stdout for the command's data, stderr for notes and errors). */
export type Out = (line: string) => void

/** What a command may use besides stdout lines: where progress goes (drawn only on a TTY). */
export interface CommandContext {
  progress: ProgressStream
  /** a line on stderr: notes that are not the command's data */
  err: Out
}

/** One command: its arguments after the command name; returns the exit code. */
export type Command = (args: string[], out: Out, ctx: CommandContext) => Promise<number>

/**
 * The commands of one file of commands/, by the name typed after `cdgossip`. The CLI is the
 * union of the groups listed in commands/index.ts: a new group is a file and a line there.
 */
export type CommandGroup = Readonly<Record<string, Command>>
