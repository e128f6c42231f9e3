import { describe, expect, it } from 'vitest'
import { STANDARD_EVENT_CLASSES, classMatchesPattern, isClassPattern } from '../../src/events/index.js'
import { compileClassPatterns } from '../../src/trust/class-pattern.js'
import { CLASS_PATTERN_REGEX, MAX_CLASS_PATTERN_LENGTH, isValidClassPattern } from '../../src/trust/index.js'

const samples = [
  '*', 'artifact.*', 'pipelinerun.*', 'x.mytool-resource.*', 'x.My2Tool-Resource.*',
  'artifact.published', 'pipelinerun.finished', 'testcaserun.skipped', 'x.mytool-resource.created',
  '', 'artifact', 'Artifact.published', 'artifact.publised', 'nosuchsubject.*', 'artifact.published.0.2.0',
  'dev.cdevents.artifact.published.0.2.0', 'x.*', 'x.created', 'x.tool-.created', 'x.-resource.created',
  'x.tool-res0urce.created', '*.*', 'artifact.pub*', '**', 'artifact.*.*', ' artifact.published', 'artifact.published '
]

describe('CLASS_PATTERN_REGEX', () => {
  const regex = new RegExp(CLASS_PATTERN_REGEX, 'u')

  it.each(samples)('agrees with events/ isClassPattern on %j', (value) => {
    expect(regex.test(value)).toBe(isClassPattern(value))
  })

  it('accepts every standard class and subject wildcard', () => {
    for (const eventClass of STANDARD_EVENT_CLASSES) {
      expect(regex.test(eventClass), eventClass).toBe(true)
      expect(regex.test(`${eventClass.split('.')[0] ?? ''}.*`), eventClass).toBe(true)
    }
  })
})

describe('isValidClassPattern', () => {
  it('takes values of any type and bounds their length', () => {
    expect(isValidClassPattern('artifact.*')).toBe(true)
    expect(isValidClassPattern(42)).toBe(false)
    expect(isValidClassPattern(null)).toBe(false)
    expect(isValidClassPattern(['*'])).toBe(false)
    expect(isValidClassPattern(`x.${'a'.repeat(MAX_CLASS_PATTERN_LENGTH)}-r.c`)).toBe(false)
    expect(isClassPattern(`x.${'a'.repeat(MAX_CLASS_PATTERN_LENGTH)}-r.c`)).toBe(true)
  })
})

describe('compileClassPatterns', () => {
  const patterns = samples.filter(s => isClassPattern(s))
  const classes = [...STANDARD_EVENT_CLASSES, 'x.mytool-resource.created', 'x.mytool-other.created', 'x.othertool-resource.created', 'x.My2Tool-Resource.Done']

  it('answers like classMatchesPattern for every single pattern and class', () => {
    for (const pattern of patterns) {
      const matcher = compileClassPatterns([pattern])
      for (const eventClass of classes) {
        expect(matcher(eventClass), `${pattern} ~ ${eventClass}`).toBe(classMatchesPattern(pattern, eventClass))
      }
    }
  })

  it('matches when any pattern of a set does', () => {
    const matcher = compileClassPatterns(['build.*', 'artifact.published', 'x.t-r.*'])
    expect(matcher('build.queued')).toBe(true)
    expect(matcher('artifact.published')).toBe(true)
    expect(matcher('x.t-r.done')).toBe(true)
    expect(matcher('artifact.signed')).toBe(false)
    expect(matcher('x.t-rr.done')).toBe(false)
    expect(compileClassPatterns([])('build.queued')).toBe(false)
  })
})
