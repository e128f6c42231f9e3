import type { Figure } from './context.js'

/**
 * The goals the report judges, in one place (issue 18): each figure id with its target in words
 * and the check against the figure's values. A figure without an entry has no target; a check
 * answering undefined means the figure could not be judged (a baseline was skipped).
 */

interface Target {
  text: string
  check: (f: Figure) => boolean | undefined
}

const atLeast = (min: number): Target['check'] => f => f.cdgossip === undefined ? undefined : f.cdgossip >= min
const atMost = (max: number): Target['check'] => f => f.cdgossip === undefined ? undefined : f.cdgossip <= max
/** cdgossip at least `share` of RabbitMQ's figure (higher is better) */
const shareOfRabbit = (share: number): Target['check'] => f =>
  f.cdgossip === undefined || f.baseline === undefined || f.baseline <= 0 ? undefined : f.cdgossip >= share * f.baseline

export const TARGETS: Readonly<Record<string, Target>> = {
  'publish.single': { text: '≥ 0.7× RabbitMQ', check: shareOfRabbit(0.7) },
  'federation.delivered': { text: '≥ 0.5× RabbitMQ', check: shareOfRabbit(0.5) },
  'federation.fixed.p99': { text: '≤ 50 ms', check: atMost(50) },
  'federation.efficiency': { text: '≥ 50 %', check: atLeast(50) },
  'memory.federation': { text: '≤ 200 MiB per node', check: atMost(200) },
  'catchup.rate': { text: '≥ 15,000 events/s', check: atLeast(15_000) },
  'catchup.efficiency': { text: '≥ 50 %', check: atLeast(50) },
  'query.p99': { text: '≤ 20 ms', check: atMost(20) },
  'scale.delivery': { text: '100 %', check: atLeast(100) }
}

/** The figure with its target and verdict filled in from TARGETS (unchanged when it has none). */
export function withTarget (f: Figure): Figure {
  const target = TARGETS[f.id]
  if (target === undefined) return f
  const meets = target.check(f)
  return { ...f, target: target.text, ...(meets === undefined ? {} : { meets }) }
}
