import { createHash } from 'node:crypto'
import type { StateSection } from '../contracts/state-section.js'
import type { SubscriptionRegistry } from './subscription-registry.js'
import { validateSubscriptionInput } from './subscription-input.js'
import type { MatchableEvent, Subscription } from './types.js'

/**
 * Whether the node keeps an event: some subscription matching it must have started by the event's
 * time. `now` means the subscription's creation time, `time` its given instant; `beginning` and
 * `cursor` keep all. Event time is the CDEvent's timestamp, so a node that was offline still keeps
 * what happened while it was away. The node's own records coming back (a restored data dir) are
 * always kept.
 */
export function subscriptionsWant (registry: Pick<SubscriptionRegistry, 'matching'>, selfPeerId: string | undefined, event: MatchableEvent, eventTime: string): boolean {
  if (event.origin === selfPeerId) return true
  const at = Date.parse(eventTime)
  return registry.matching(event).some(sub => startedBy(sub, at))
}

function startedBy (sub: Subscription, at: number): boolean {
  switch (sub.start.kind) {
    case 'now': return !(at < Date.parse(sub.createdAt))
    case 'time': return !(at < Date.parse(sub.start.time))
    default: return true
  }
}

/**
 * Adds the config file's subscriptions with a stable identity across restarts: the id given, or
 * one derived from the entry's content, and the creation time first recorded for it in `starts`.
 * Without that a restart would move a `now` subscription's start (dropping what happened while the
 * node was down) and lose a webhook's delivery progress. An edited entry is a new subscription and
 * starts now.
 */
export async function addConfigSubscriptions (registry: Pick<SubscriptionRegistry, 'add'>, inputs: ReadonlyArray<Record<string, unknown>>, starts: StateSection<string>, now: () => Date = () => new Date()): Promise<void> {
  for (const input of inputs) {
    const normal = validateSubscriptionInput(input)
    const id = normal.id ?? `cfg-${createHash('sha256').update(canonicalJson(normal)).digest('hex').slice(0, 12)}`
    let createdAt = await starts.get(id)
    if (createdAt === undefined) {
      createdAt = now().toISOString()
      await starts.put(id, createdAt)
    }
    const at = new Date(createdAt)
    registry.add({ ...input, id }, { origin: 'config', now: () => at })
  }
}

/** JSON with object keys sorted at every level: equal content, equal text. */
export function canonicalJson (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
    : v)
}
