import type { Logger } from 'pino'

/** One component's part in a shutdown: its name (for the log and the error) and how it stops. */
export interface StopStep {
  name: string
  stop: () => void | Promise<void>
}

/**
 * Runs every step in order, whatever the earlier ones did: a component that fails to stop must not
 * leave the ones after it (libp2p, the LevelDB store) open. Each failure is logged with the
 * component's name; if any failed, rejects with an AggregateError holding every error, in order.
 */
export async function stopInOrder (steps: readonly StopStep[], log: Logger): Promise<void> {
  const failed: Array<{ name: string, err: unknown }> = []
  for (const step of steps) {
    try {
      await step.stop()
    } catch (err) {
      log.error({ err, component: step.name }, 'component failed to stop; stopping the others')
      failed.push({ name: step.name, err })
    }
  }
  if (failed.length > 0) {
    throw new AggregateError(failed.map(f => f.err), `failed to stop: ${failed.map(f => f.name).join(', ')}`)
  }
}
