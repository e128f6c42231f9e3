import { describe, expect, it } from 'vitest'
import { MAX_QUOTED_LENGTH, normaliseTime, outcomeOf, purl, quoted, stringAt, timeAt } from '../../src/hooks/kinds/forge-payload.js'
import { thrown } from '../helpers/errors.js'

/** The payload readers shared by the github, gitlab and gerrit kinds. */

describe('forge payload helpers', () => {
  it('normalises the tools\' time formats to RFC 3339 UTC', () => {
    expect(normaliseTime('2019-05-15T15:20:55Z')).toBe('2019-05-15T15:20:55.000Z')
    expect(normaliseTime('2012-01-03T23:36:29+02:00')).toBe('2012-01-03T21:36:29.000Z')
    expect(normaliseTime('2021-02-23T02:41:37.886Z')).toBe('2021-02-23T02:41:37.886Z')
    // GitLab's Ruby forms
    expect(normaliseTime('2016-08-12 15:23:28 UTC')).toBe('2016-08-12T15:23:28.000Z')
    expect(normaliseTime('2021-04-28 21:50:00 +0200')).toBe('2021-04-28T19:50:00.000Z')
    // Gerrit's epoch seconds
    expect(normaliseTime(1717416001)).toBe('2024-06-03T12:00:01.000Z')
    // placeholders and garbage are no time
    expect(normaliseTime('0001-01-01T00:00:00Z')).toBeUndefined()
    expect(normaliseTime('2024-01-01')).toBeUndefined()
    expect(normaliseTime('yesterday')).toBeUndefined()
    expect(normaliseTime('2024-02-30T10:00:00Z')).toBeUndefined()
    expect(normaliseTime(0)).toBeUndefined()
    expect(normaliseTime(1e15)).toBeUndefined()
    expect(normaliseTime(null)).toBeUndefined()
  })

  it('takes the first path holding a time, and names every path when none does', () => {
    expect(timeAt({ a: null, b: '2016-08-12 15:23:28 UTC' }, ['a', 'b'], 'gitlab pipeline')).toBe('2016-08-12T15:23:28.000Z')
    expect(thrown(() => timeAt({}, ['a', 'b'], 'gitlab pipeline: object_attributes')).message)
      .toBe('gitlab pipeline: object_attributes.a or b is missing or is not a timestamp')
  })

  it('names the full path of a missing field', () => {
    expect(stringAt({ a: { b: 'x' } }, 'a.b', 'github push')).toBe('x')
    expect(thrown(() => stringAt({ a: { b: '' } }, 'a.b', 'github push')).message).toBe('github push: a.b is missing or is not a non-empty string')
    expect(thrown(() => stringAt({ b: 1 }, 'b', 'github push: a')).message).toBe('github push: a.b is missing or is not a non-empty string')
  })

  it('builds Package URLs with each type\'s normalisation and encoding', () => {
    expect(purl({ type: 'github', namespace: 'Codertocat', name: 'Hello-World', version: 'v1.0' }, 'x')).toBe('pkg:github/codertocat/hello-world@v1.0')
    expect(purl({ type: 'npm', namespace: '@scope', name: 'pkg', version: '1.0.0' }, 'x')).toBe('pkg:npm/%40scope/pkg@1.0.0')
    expect(purl({ type: 'generic', namespace: 'group/sub', name: 'project', version: 'v1.1' }, 'x')).toBe('pkg:generic/group/sub/project@v1.1')
    expect(purl({ type: 'github', namespace: 'o', name: 'r', version: 'release 1/2' }, 'x')).toBe('pkg:github/o/r@release%201%2F2')
    // what purl refuses is a malformed payload (400), not a crash
    expect(thrown(() => purl({ type: 'maven', name: 'no-group', version: '1' }, 'github package'))).toMatchObject({
      code: 'CDG_INVALID_REQUEST', message: expect.stringContaining('github package: no valid Package URL')
    })
  })

  it('quotes payload values in reasons, cut to a bound', () => {
    expect(quoted('assigned')).toBe('"assigned"')
    expect(quoted('x'.repeat(10_000))).toBe(`"${'x'.repeat(MAX_QUOTED_LENGTH)}…"`)
    expect(quoted('a"b')).toBe('"a\\"b"')
  })

  it('maps conclusions to outcomes, an unknown one to error with the word kept', () => {
    const table = { ok: 'success', bad: 'failure' } as const
    expect(outcomeOf('ok', table, 'Tool')).toEqual({ outcome: 'success' })
    expect(outcomeOf('bad', table, 'Tool')).toEqual({ outcome: 'failure', errors: 'Tool conclusion: bad' })
    expect(outcomeOf('toString', table, 'Tool')).toEqual({ outcome: 'error', errors: 'Tool conclusion: toString' })
  })
})
