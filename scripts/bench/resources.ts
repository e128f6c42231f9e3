import type { ChildProcess } from 'node:child_process'

/**
 * Everything the bench starts (node processes, RabbitMQ, in-process nodes, temp dirs) registers a
 * stop function here, so a failing part, Ctrl-C or an uncaught error still stops all of it.
 */

type Stopper = () => Promise<void>

const stoppers = new Map<number, { name: string, stop: Stopper }>()
const children = new Set<ChildProcess>()
/** grandchildren the bench knows by pid (RabbitMQ's beam.smp under its start script) */
const extraPids = new Set<number>()
let nextId = 1

/** Register a stop function; returns the function that unregisters it (call after a clean stop). */
export function onCleanup (name: string, stop: Stopper): () => void {
  const id = nextId++
  stoppers.set(id, { name, stop })
  return () => { stoppers.delete(id) }
}

/** Child processes killed synchronously if the bench process exits without its async cleanup. */
export function trackChild (child: ChildProcess): void {
  children.add(child)
  child.once('exit', () => { children.delete(child) })
}

/** A process that is not our direct child but that we started (by pid, never by name). */
export function trackPid (pid: number): () => void {
  extraPids.add(pid)
  return () => { extraPids.delete(pid) }
}

/** Stops everything still registered, newest first; each stop bounded by `timeoutMs`. */
export async function cleanupAll (log: (line: string) => void, timeoutMs = 20_000): Promise<void> {
  const entries = [...stoppers.entries()].reverse()
  stoppers.clear()
  for (const [, { name, stop }] of entries) {
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        stop(),
        new Promise((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('timed out')) }, timeoutMs) })
      ])
    } catch (err) {
      log(`cleanup of ${name} failed: ${(err as Error).message}`)
    } finally {
      clearTimeout(timer)
    }
  }
}

/** Last resort on process exit: SIGKILL whatever child is still alive (by its own pid only). */
export function killChildrenSync (): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL')
      } catch { /* already gone */ }
    }
  }
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch { /* already gone */ }
  }
}
