import { describe, it, expect } from 'vitest'
import {
  DEFAULT_PAGE_SIZE, MAX_FILTER_LENGTH, MAX_PAGE_SIZE, clampInt, clampLimit, matches, parseQuery
} from '../../src/store/query-language.js'
import type { RecordFacts } from '../../src/store/record.js'
import type { EventQuery } from '../../src/store/types.js'
import type { CdgossipError } from '../../src/errors.js'

/** The query language on its own: what a query means, and which records' facts it matches. */

function codeOf (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as CdgossipError).code
  }
  return undefined
}

const FACTS: RecordFacts = {
  digest: 'a'.repeat(64),
  origin: '12D3KooWAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  eventClass: 'pipelinerun.finished',
  type: 'dev.cdevents.pipelinerun.finished.0.3.0',
  source: 'https://ci.example.org/team/job',
  subject: 'run-1',
  chainId: 'chain-1',
  time: Date.parse('2024-05-01T10:00:00Z'),
  trusted: true,
  receivedAt: Date.parse('2024-05-01T10:00:01Z')
}

describe('parseQuery', () => {
  it('tells an exact type (dev.…) from a class', () => {
    expect(parseQuery({ type: 'dev.cdevents.pipelinerun.finished.0.3.0' })).toEqual({ typeExact: 'dev.cdevents.pipelinerun.finished.0.3.0' })
    expect(parseQuery({ type: 'pipelinerun.finished' })).toEqual({ eventClass: 'pipelinerun.finished' })
    expect(parseQuery({ type: 'x.mytool-resource.created' })).toEqual({ eventClass: 'x.mytool-resource.created' })
  })

  it('keeps every filter and turns the window into epoch ms, ignoring paging fields', () => {
    const q: EventQuery = {
      source: 'https://ci.example.org/', subject: 's', chainId: 'c', origin: 'o', trusted: false,
      since: '2024-05-01T12:00:00+02:00', until: '2024-05-01', limit: 5, cursor: 'a'
    }
    expect(parseQuery(q)).toEqual({
      source: 'https://ci.example.org/', subject: 's', chainId: 'c', origin: 'o', trusted: false,
      sinceMs: Date.parse('2024-05-01T10:00:00Z'), untilMs: Date.parse('2024-05-01T00:00:00Z')
    })
    expect(parseQuery({})).toEqual({})
  })

  it('refuses malformed queries with CDG_INVALID_REQUEST', () => {
    const bad: unknown[] = [
      null, 'type=x', { type: '' }, { type: 7 }, { source: 'x'.repeat(MAX_FILTER_LENGTH + 1) }, { subject: '' },
      { chainId: [] }, { origin: {} }, { since: 'yesterday' }, { until: '2024-05-01T10:00:00' }, { trusted: 'yes' }
    ]
    for (const q of bad) expect(codeOf(() => parseQuery(q as EventQuery)), JSON.stringify(q)).toBe('CDG_INVALID_REQUEST')
    expect(parseQuery({ source: 'x'.repeat(MAX_FILTER_LENGTH) }).source).toHaveLength(MAX_FILTER_LENGTH)
  })
})

describe('matches', () => {
  it('matches each criterion exactly, the source as a prefix', () => {
    const cases: Array<[Partial<Record<string, unknown>>, Partial<Record<string, unknown>>]> = [
      [{ typeExact: FACTS.type }, { typeExact: 'dev.cdevents.pipelinerun.started.0.3.0' }],
      [{ eventClass: FACTS.eventClass }, { eventClass: 'pipelinerun.started' }],
      [{ source: 'https://ci.example.org/' }, { source: 'https://ci.example.org/other' }],
      [{ source: FACTS.source }, { source: `${FACTS.source}/deeper` }],
      [{ subject: 'run-1' }, { subject: 'run-10' }],
      [{ chainId: 'chain-1' }, { chainId: 'chain-2' }],
      [{ origin: FACTS.origin }, { origin: 'someone-else' }],
      [{ trusted: true }, { trusted: false }]
    ]
    for (const [yes, no] of cases) {
      expect(matches(FACTS, yes), JSON.stringify(yes)).toBe(true)
      expect(matches(FACTS, no), JSON.stringify(no)).toBe(false)
    }
    expect(matches({ ...FACTS, chainId: undefined }, { chainId: 'chain-1' })).toBe(false)
    expect(matches(FACTS, {})).toBe(true)
  })

  it('keeps the window inclusive at both ends, and leaves out records without an event time', () => {
    const t = FACTS.time as number
    expect(matches(FACTS, { sinceMs: t, untilMs: t })).toBe(true)
    expect(matches(FACTS, { sinceMs: t + 1 })).toBe(false)
    expect(matches(FACTS, { untilMs: t - 1 })).toBe(false)
    const timeless = { ...FACTS, time: undefined }
    expect(matches(timeless, {})).toBe(true)
    expect(matches(timeless, { sinceMs: 0 })).toBe(false)
    expect(matches(timeless, { untilMs: t })).toBe(false)
  })
})

describe('page sizes', () => {
  it('defaults, clamps, and refuses what is not a positive integer', () => {
    expect(clampLimit(undefined, 'limit')).toBe(DEFAULT_PAGE_SIZE)
    expect(clampLimit(1, 'limit')).toBe(1)
    expect(clampLimit(MAX_PAGE_SIZE + 1, 'limit')).toBe(MAX_PAGE_SIZE)
    expect(clampInt(50, 10, 'limit')).toBe(10)
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5', null]) {
      expect(codeOf(() => clampLimit(bad, 'limit')), String(bad)).toBe('CDG_INVALID_REQUEST')
    }
  })
})
