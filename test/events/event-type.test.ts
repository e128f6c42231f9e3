import { describe, expect, it } from 'vitest'
import {
  CUSTOM_TYPE_PATTERN,
  EVENT_TYPE_SPECS,
  eventClassOf,
  eventTypeSpecOf,
  isEventClass,
  isStandardEventClass,
  MAX_EVENT_TYPE_LENGTH,
  parseEventType,
  STANDARD_EVENT_CLASSES,
  STANDARD_SUBJECTS,
  standardTypeOf
} from '../../src/events/index.js'

describe('the vocabulary', () => {
  it('has 45 standard event classes over 14 subjects, sorted and unique', () => {
    expect(STANDARD_EVENT_CLASSES).toHaveLength(45)
    expect(new Set(STANDARD_EVENT_CLASSES).size).toBe(45)
    expect([...STANDARD_EVENT_CLASSES]).toEqual([...STANDARD_EVENT_CLASSES].sort())
    expect(STANDARD_SUBJECTS).toHaveLength(14)
    expect(new Set(STANDARD_EVENT_CLASSES.map(c => c.split('.')[0]))).toEqual(new Set(STANDARD_SUBJECTS))
  })

  it('records the 0.5.1 type versions', () => {
    expect(standardTypeOf('pipelinerun.finished')).toBe('dev.cdevents.pipelinerun.finished.0.3.0')
    expect(standardTypeOf('change.created')).toBe('dev.cdevents.change.created.0.4.0')
    expect(standardTypeOf('artifact.deleted')).toBe('dev.cdevents.artifact.deleted.0.2.0')
    expect(standardTypeOf('testcaserun.skipped')).toBe('dev.cdevents.testcaserun.skipped.0.2.0')
    expect(standardTypeOf('pipelinerun.exploded')).toBeUndefined()
    expect(eventTypeSpecOf('dev.cdevents.ticket.closed.0.2.0')?.spec.subjectExtras).toBeDefined()
  })
})

describe('parseEventType', () => {
  it('parses every standard type of the table', () => {
    for (const t of EVENT_TYPE_SPECS) {
      expect(parseEventType(t.type)).toEqual({ kind: 'standard', subject: t.subject, predicate: t.predicate, version: t.version, eventClass: t.eventClass })
      expect(eventClassOf(t.type)).toBe(t.eventClass)
    }
  })

  it('parses custom types', () => {
    expect(parseEventType('dev.cdeventsx.mytool-resource.created.0.1.0')).toEqual({
      kind: 'custom', tool: 'mytool', subject: 'resource', predicate: 'created', version: '0.1.0', eventClass: 'x.mytool-resource.created'
    })
    expect(eventClassOf('dev.cdeventsx.Tool2-Thing.Happened.9.9.9')).toBe('x.Tool2-Thing.Happened')
  })

  it.each([
    'dev.cdevents.pipelinerun.finished.0.2.0',
    'dev.cdevents.pipelinerun.finished',
    'dev.cdevents.pipelinerun.exploded.0.3.0',
    'dev.cdevents.pipelinerun.finished.0.3.0 ',
    'DEV.CDEVENTS.PIPELINERUN.FINISHED.0.3.0',
    'dev.cdeventsx.mytool.created.0.1.0',
    'dev.cdeventsx.my_tool-resource.created.0.1.0',
    'dev.cdeventsx.mytool-resource2.created.0.1.0',
    'dev.cdeventsx.mytool-resource.created.0.10.0',
    'dev.cdeventsx.mytool-resource.created.0.1',
    'dev.cdeventsx.-resource.created.0.1.0',
    ''
  ])('returns undefined for %j', type => {
    expect(parseEventType(type)).toBeUndefined()
    expect(eventClassOf(type)).toBeUndefined()
  })

  it('refuses overlong types before matching', () => {
    const long = `dev.cdeventsx.${'a'.repeat(MAX_EVENT_TYPE_LENGTH)}-b.c.0.1.0`
    expect(new RegExp(CUSTOM_TYPE_PATTERN, 'u').test(long)).toBe(true)
    expect(parseEventType(long)).toBeUndefined()
  })

  it('accepts exactly the custom types the custom schema pattern accepts', () => {
    const pattern = new RegExp(CUSTOM_TYPE_PATTERN, 'u')
    const samples = [
      'dev.cdeventsx.mytool-resource.created.0.1.0',
      'dev.cdeventsx.a-b.c.0.0.0',
      'dev.cdeventsx.A1-B.C.9.9.9',
      'dev.cdeventsx.a1-b2.c.0.0.0',
      'dev.cdeventsx.a-b.c3.0.0.0',
      'dev.cdeventsx.a-b-c.d.0.0.0',
      'dev.cdeventsx.a-b.c.0.0.0\n',
      'dev.cdeventsx.a.b.c.0.0.0',
      'dev.cdeventsx.a-b.c.1.2.34',
      'xdev.cdeventsx.a-b.c.0.0.0'
    ]
    for (const s of samples) expect(parseEventType(s)?.kind === 'custom', s).toBe(pattern.test(s))
  })
})

describe('isEventClass', () => {
  it.each(['pipelinerun.finished', 'ticket.closed', 'x.mytool-resource.created', 'x.T2-Thing.Happened'])('accepts %s', c => {
    expect(isEventClass(c)).toBe(true)
  })

  it.each(['pipelinerun', 'pipelinerun.*', '*', 'pipelinerun.exploded', 'x.mytool.created', 'x.my_tool-r.created', 'x.mytool-resource.created.0.1.0', ''])('refuses %j', c => {
    expect(isEventClass(c)).toBe(false)
  })

  it('tells standard classes apart', () => {
    expect(isStandardEventClass('artifact.published')).toBe(true)
    expect(isStandardEventClass('x.mytool-resource.created')).toBe(false)
  })
})
