import { describe, expect, it } from 'vitest'
import {
  classMatchesPattern,
  expandClassPattern,
  isClassPattern,
  isValidNetworkName,
  parseTopic,
  STANDARD_EVENT_CLASSES,
  topicFor
} from '../../src/events/index.js'

describe('network names', () => {
  it.each(['a', 'main', 'my-net-1', '0', 'a'.repeat(63), 'x-'])('accepts %j', name => {
    expect(isValidNetworkName(name)).toBe(true)
  })

  it.each(['', '-a', 'Main', 'a_b', 'a.b', 'a/b', 'a'.repeat(64), ' a'])('refuses %j', name => {
    expect(isValidNetworkName(name)).toBe(false)
  })
})

describe('topics', () => {
  it('names one topic per network and class', () => {
    expect(topicFor('main', 'pipelinerun.finished')).toBe('cdgossip/main/pipelinerun.finished')
    expect(topicFor('lab-2', 'x.mytool-resource.created')).toBe('cdgossip/lab-2/x.mytool-resource.created')
  })

  it('round-trips every standard class and a custom one', () => {
    for (const eventClass of [...STANDARD_EVENT_CLASSES, 'x.mytool-resource.created']) {
      expect(parseTopic(topicFor('main', eventClass))).toEqual({ network: 'main', eventClass })
    }
  })

  it('throws on a bad network or class (a programming error)', () => {
    expect(() => topicFor('Main', 'pipelinerun.finished')).toThrow(RangeError)
    expect(() => topicFor('main', 'pipelinerun.*')).toThrow(RangeError)
    expect(() => topicFor('main', 'nonsense')).toThrow(RangeError)
  })

  it.each([
    'cdgossip/main',
    'cdgossip/main/pipelinerun.finished/extra',
    'other/main/pipelinerun.finished',
    'cdgossip/Main/pipelinerun.finished',
    'cdgossip//pipelinerun.finished',
    'cdgossip/main/pipelinerun.exploded',
    'cdgossip/main/*',
    'cdgossip/main/x.mytool.created',
    ''
  ])('parseTopic(%j) is undefined', topic => {
    expect(parseTopic(topic)).toBeUndefined()
  })
})

describe('class patterns', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*', 'pipelinerun.finished', true],
    ['*', 'x.mytool-resource.created', true],
    ['pipelinerun.*', 'pipelinerun.finished', true],
    ['pipelinerun.*', 'pipelinerun.queued', true],
    ['pipelinerun.*', 'taskrun.finished', false],
    ['testcaserun.*', 'testsuiterun.finished', false],
    ['pipelinerun.finished', 'pipelinerun.finished', true],
    ['pipelinerun.finished', 'pipelinerun.started', false],
    ['x.mytool-resource.*', 'x.mytool-resource.created', true],
    ['x.mytool-resource.*', 'x.mytool-resources.created', false],
    ['x.mytool-resource.*', 'x.othertool-resource.created', false],
    ['x.mytool-resource.created', 'x.mytool-resource.created', true],
    ['resource.*', 'x.mytool-resource.created', false],
    ['pipelinerun.*', 'x.mytool-pipelinerun.finished', false],
    ['nonsense.*', 'nonsense.finished', false],
    ['pipeline*', 'pipelinerun.finished', false],
    ['*.finished', 'pipelinerun.finished', false],
    ['*', 'not-a-class', false],
    ['', 'pipelinerun.finished', false]
  ]

  it.each(cases)('classMatchesPattern(%j, %j) is %s', (pattern, eventClass, expected) => {
    expect(classMatchesPattern(pattern, eventClass)).toBe(expected)
  })

  it.each(['*', 'artifact.*', 'artifact.published', 'x.mytool-resource.*', 'x.mytool-resource.created'])('%j is a pattern', p => {
    expect(isClassPattern(p)).toBe(true)
  })

  it.each(['', '**', 'artifact', 'artifact.', 'nonsense.*', '*.published', 'x.*', 'x.mytool.*', 'artifact.*.*'])('%j is not a pattern', p => {
    expect(isClassPattern(p)).toBe(false)
  })

  it('expands patterns into the classes whose topics can be joined', () => {
    expect(expandClassPattern('*')).toEqual([...STANDARD_EVENT_CLASSES])
    expect(expandClassPattern('pipelinerun.*')).toEqual(['pipelinerun.finished', 'pipelinerun.queued', 'pipelinerun.started'])
    expect(expandClassPattern('ticket.closed')).toEqual(['ticket.closed'])
    expect(expandClassPattern('x.mytool-resource.created')).toEqual(['x.mytool-resource.created'])
    expect(expandClassPattern('x.mytool-resource.*')).toEqual([])
    expect(expandClassPattern('nonsense')).toEqual([])
  })
})
