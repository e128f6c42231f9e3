import { classMatchesPattern } from '../../events/index.js'
import type { EventClass, SignedEvent } from '../../events/types.js'
import type { StateSection } from '../../contracts/state-section.js'
import type { Logger } from 'pino'

/**
 * The persisted sync floors: per (origin, class), sequences at or below the floor are known
 * history this node does not keep (before a `now` subscription started) and are not fetched again
 * (see SyncComponents in ./types.ts for how sync picks a floor).
 */
export class SyncFloors {
  private readonly section: StateSection<number>
  private readonly log: Logger | undefined
  /** raises run one at a time: each reads the floor the previous one wrote */
  private tail: Promise<void> = Promise.resolve()

  constructor (components: { section: StateSection<number>, log?: Logger }) {
    this.section = components.section
    this.log = components.log
  }

  async get (origin: string, eventClass: EventClass): Promise<number | undefined> {
    return await this.section.get(floorKey(origin, eventClass))
  }

  async set (origin: string, eventClass: EventClass, floor: number): Promise<void> {
    await this.section.put(floorKey(origin, eventClass), floor)
  }

  /**
   * A record sync fetched was skipped (no subscription keeps it): when it sits right above the
   * floor, raise the floor over it, so contiguous skipped history is not fetched again. Failures
   * are logged: the history is then fetched again, which costs traffic, not correctness.
   */
  skipped (event: SignedEvent): void {
    this.tail = this.tail.then(async () => {
      const key = floorKey(event.origin, event.eventClass)
      try {
        const floor = await this.section.get(key) ?? 0
        if (event.sequence === floor + 1) await this.section.put(key, event.sequence)
      } catch (err) {
        this.log?.warn({ err }, 'could not record a sync floor; the history will be fetched again')
      }
    })
  }

  /** History is wanted from sequence 1 for these class patterns (a `beginning` subscription): forget their floors. */
  async reset (classPatterns: readonly string[]): Promise<void> {
    for await (const [key] of this.section.entries()) {
      const eventClass = key.slice(key.indexOf(' ') + 1)
      if (classPatterns.some(p => classMatchesPattern(p, eventClass))) await this.section.del(key)
    }
  }

  /** Resolves once every raise asked for so far is written. */
  async idle (): Promise<void> {
    await this.tail
  }
}

function floorKey (origin: string, eventClass: EventClass): string {
  return `${origin} ${eventClass}`
}
