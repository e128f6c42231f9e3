import { contextKey, entityKey, traceFactsOf } from '../events/trace-references.js'
import type { CDEvent } from '../events/types.js'
import type { TraceNode, TraceRef } from '../contracts/trace.js'

/**
 * References between a trace and the fetch protocol: what an unresolved node asks peers for, and
 * whether a record a peer sent answers a reference (a record nobody asked for is refused).
 */

/** A stable text form of a reference, to dedupe and report on. */
export function refText (ref: TraceRef): string {
  switch (ref.kind) {
    case 'context': return ref.source === undefined ? `context ${ref.id}` : `context ${ref.source} ${ref.id}`
    case 'entity': return `entity${ref.referrers === true ? '+referrers' : ''} ${ref.type} ${ref.id}`
    case 'chain': return `chain ${ref.id}`
  }
}

/** What the unresolved nodes of a graph name, as references, in node order. */
export function refsOfNodes (nodes: readonly TraceNode[]): TraceRef[] {
  const out: TraceRef[] = []
  for (const node of nodes) {
    if (node.resolved) continue
    if (node.contextId !== undefined) out.push({ kind: 'context', id: node.contextId, ...(node.source === undefined ? {} : { source: node.source }) })
    else if (node.entity !== undefined) out.push({ kind: 'entity', type: node.entity.type, id: node.entity.id })
  }
  return out
}

/**
 * The references (of `refs`, the same objects) an event answers: the event a context reference
 * names, an event that is an entity (or names it, when the reference asks for referrers), an
 * event of a chain.
 */
export function refsAnswered (cdevent: CDEvent, eventClass: string, refs: readonly TraceRef[]): TraceRef[] {
  const { context } = cdevent
  let facts: ReturnType<typeof traceFactsOf> | undefined
  return refs.filter(ref => {
    switch (ref.kind) {
      case 'context': return context.id === ref.id && (ref.source === undefined || context.source === ref.source)
      case 'chain': return context.chainId === ref.id
      case 'entity': {
        facts ??= traceFactsOf(cdevent, eventClass)
        const key = entityKey(ref.type, ref.id)
        return facts.identities.includes(key) || (ref.referrers === true && facts.references.some(r => r.target === key))
      }
    }
    return false
  })
}

/** The trace index key of a context or entity reference. */
export function refKeyOf (ref: Exclude<TraceRef, { kind: 'chain' }>): string {
  return ref.kind === 'context' ? contextKey(ref.id) : entityKey(ref.type, ref.id)
}
