import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CLASS_PATTERN_REGEX, classMatchesPattern, compileClassPatterns, isClassPattern, isEventClass } from '../../src/trust/index.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const specDir = path.resolve(repoRoot, '../shared/cdevents-spec')

describe('isEventClass / isClassPattern', () => {
  it.each(['artifact.published', 'pipelinerun.finished', 'x.mytool-resource.created', 'x.My2Tool-Resource.Created'])('%s is a class', (value) => {
    expect(isEventClass(value)).toBe(true)
    expect(isClassPattern(value)).toBe(true)
  })

  it.each(['*', 'artifact.*', 'x.mytool-resource.*'])('%s is a pattern but not a class', (value) => {
    expect(isEventClass(value)).toBe(false)
    expect(isClassPattern(value)).toBe(true)
  })

  it.each(['', 'artifact', 'Artifact.published', 'artifact.published.0.2.0', 'x.*', 'x.created', 'x.tool-.created',
    'x.-resource.created', 'x.tool-res0urce.created', '*.*', 'artifact.pub*', '**', 'artifact.*.*', ' artifact.published',
    `${'a'.repeat(200)}.b`, 42, null])('%s is neither', (value) => {
    expect(isEventClass(value)).toBe(false)
    expect(isClassPattern(value)).toBe(false)
  })

  it('agrees with CLASS_PATTERN_REGEX', () => {
    const regex = new RegExp(CLASS_PATTERN_REGEX, 'u')
    for (const value of ['*', 'artifact.*', 'artifact.published', 'x.t-r.c', 'x.t-r.*', 'x.*', 'x.created', 'Artifact.*', 'a.b.c']) {
      expect(regex.test(value), value).toBe(isClassPattern(value))
    }
  })

  it.skipIf(!fs.existsSync(specDir))('accepts the class of every official conformance example (needs ../shared/cdevents-spec)', () => {
    const files = fs.readdirSync(path.join(specDir, 'conformance'))
    expect(files.length).toBe(45)
    for (const file of files) {
      const eventClass = file.replace(/\.json$/, '').replace('_', '.')
      expect(isEventClass(eventClass), eventClass).toBe(true)
    }
    const custom = JSON.parse(fs.readFileSync(path.join(specDir, 'custom/conformance.json'), 'utf8')) as { context: { type: string } }
    const [, , name, predicate] = custom.context.type.split('.')
    expect(isEventClass(`x.${String(name)}.${String(predicate)}`)).toBe(true)
  })
})

describe('classMatchesPattern / compileClassPatterns', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*', 'artifact.published', true],
    ['*', 'x.mytool-resource.created', true],
    ['artifact.*', 'artifact.published', true],
    ['artifact.*', 'artifactx.published', false],
    ['artifact.*', 'build.started', false],
    ['x.mytool-resource.*', 'x.mytool-resource.created', true],
    ['x.mytool-resource.*', 'x.mytool-other.created', false],
    ['x.mytool-resource.*', 'x.othertool-resource.created', false],
    ['pipelinerun.finished', 'pipelinerun.finished', true],
    ['pipelinerun.finished', 'pipelinerun.started', false]
  ]

  it.each(cases)('%s vs %s → %s', (pattern, eventClass, expected) => {
    expect(classMatchesPattern(pattern, eventClass)).toBe(expected)
    expect(compileClassPatterns([pattern])(eventClass)).toBe(expected)
  })

  it('a compiled set matches when any pattern does', () => {
    const matcher = compileClassPatterns(['build.*', 'artifact.published', 'x.t-r.*'])
    expect(matcher('build.queued')).toBe(true)
    expect(matcher('artifact.published')).toBe(true)
    expect(matcher('x.t-r.done')).toBe(true)
    expect(matcher('artifact.signed')).toBe(false)
    expect(compileClassPatterns([])('build.queued')).toBe(false)
  })
})
