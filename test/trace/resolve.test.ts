import { describe, expect, it } from 'vitest'
import { resolveWith } from '../../src/trace/resolve.js'
import type { TraceFetcher } from '../../src/trace/resolve.js'
import type { TraceRef } from '../../src/contracts/trace.js'

/** A graph as the list of what it leaves unresolved; fetching a reference may reveal the next ones. */
function world (next: Record<string, string[]>): { graph: () => Promise<string[]>, fetch: TraceFetcher, asked: string[][] } {
  const unresolved = new Set(['a'])
  const asked: string[][] = []
  return {
    asked,
    graph: async () => [...unresolved],
    fetch: async refs => {
      const ids = refs.map(r => r.id)
      asked.push(ids)
      let stored = 0
      for (const id of ids) {
        const revealed = next[id]
        if (revealed === undefined) continue
        unresolved.delete(id)
        for (const n of revealed) unresolved.add(n)
        stored++
      }
      return { stored, peers: stored > 0 ? ['peer'] : [], refused: [] }
    }
  }
}

const asRefs = (ids: string[]): TraceRef[] => ids.map(id => ({ kind: 'context', id }))

describe('resolveWith', () => {
  it('fetches round after round what the last build left unresolved, each reference once', async () => {
    const w = world({ a: ['b', 'c'], b: ['d'], c: [] })
    const { graph, resolution } = await resolveWith(w.graph, asRefs, [{ kind: 'chain', id: 'x' }], w.fetch)
    expect(w.asked).toEqual([['x', 'a'], ['b', 'c'], ['d']])
    expect(graph).toEqual(['d'])
    expect(resolution).toEqual({ fetched: 3, peers: ['peer'], rounds: 3, unresolved: [{ kind: 'context', id: 'd' }], refused: [], truncated: false })
  })

  it('stops at its bounds and says so', async () => {
    const chain = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [i === 0 ? 'a' : `n${i}`, [`n${i + 1}`]]))
    const w = world(chain)
    const bounded = await resolveWith(w.graph, asRefs, [], w.fetch, { maxRounds: 2 })
    expect(w.asked).toEqual([['a'], ['n1']])
    expect(bounded.resolution).toMatchObject({ rounds: 2, truncated: true, unresolved: [{ kind: 'context', id: 'n2' }] })

    const wide = world({ a: Array.from({ length: 10 }, (_, i) => `w${i}`) })
    const few = await resolveWith(wide.graph, asRefs, [], wide.fetch, { maxRefs: 4 })
    expect(wide.asked).toEqual([['a'], ['w0', 'w1', 'w2']])
    expect(few.resolution.truncated).toBe(true)
  })

  it('stops when a round brings nothing', async () => {
    const w = world({})
    const { resolution } = await resolveWith(w.graph, asRefs, [], w.fetch)
    expect(w.asked).toEqual([['a']])
    expect(resolution).toMatchObject({ fetched: 0, rounds: 1, unresolved: [{ kind: 'context', id: 'a' }], truncated: false })
  })
})
