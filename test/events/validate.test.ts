import { describe, expect, it } from 'vitest'
import {
  InvalidEventError,
  MAX_REPORTED_VIOLATIONS,
  UnsupportedSpecVersionError,
  validateCDEvent,
  warmUpValidators
} from '../../src/events/index.js'
import type { Violation } from '../../src/events/index.js'
import { customEvent, pipelineRunFinished, ticketClosed } from './fixtures.js'

/** The error validateCDEvent throws for value (fails the test when it does not throw). */
function refusal (value: unknown): InvalidEventError | UnsupportedSpecVersionError {
  try {
    validateCDEvent(value)
  } catch (err) {
    if (err instanceof InvalidEventError || err instanceof UnsupportedSpecVersionError) return err
    throw err
  }
  throw new Error('expected the event to be refused')
}

function violationsOf (value: unknown): Violation[] {
  const err = refusal(value)
  expect(err.code).toBe('CDG_INVALID_EVENT')
  return (err as InvalidEventError).details?.violations ?? []
}

describe('validateCDEvent', () => {
  it('accepts a valid standard event and returns it with its parsed type', () => {
    const event = pipelineRunFinished()
    const { cdevent, parsedType } = validateCDEvent(event)
    expect(cdevent).toBe(event)
    expect(parsedType).toEqual({
      kind: 'standard',
      subject: 'pipelinerun',
      predicate: 'finished',
      version: '0.3.0',
      eventClass: 'pipelinerun.finished'
    })
  })

  it('accepts a custom event with free-form content', () => {
    const { parsedType } = validateCDEvent(customEvent())
    expect(parsedType).toEqual({
      kind: 'custom',
      tool: 'mytool',
      subject: 'resource',
      predicate: 'created',
      version: '0.1.0',
      eventClass: 'x.mytool-resource.created'
    })
  })

  it('compiles every validator up front when asked', () => {
    expect(() => warmUpValidators()).not.toThrow()
    expect(validateCDEvent(ticketClosed()).parsedType.eventClass).toBe('ticket.closed')
  })

  describe('spec versions', () => {
    it('refuses a 0.4.x envelope with context.version', () => {
      const event = pipelineRunFinished()
      delete event.context.specversion
      event.context.version = '0.4.1'
      const err = refusal(event)
      expect(err.code).toBe('CDG_UNSUPPORTED_SPEC_VERSION')
      expect(err).toBeInstanceOf(UnsupportedSpecVersionError)
      expect(err.details).toMatchObject({ path: '/context/version', expected: '0.5.1' })
    })

    it('refuses a subject.type the type does not declare (0.4.x subjects)', () => {
      const event = pipelineRunFinished()
      event.subject.type = 'pipelineRun'
      const err = refusal(event)
      expect(err.code).toBe('CDG_UNSUPPORTED_SPEC_VERSION')
      expect(err.details).toMatchObject({ path: '/subject/type' })
    })

    it('still accepts the subject.type that ticket.closed declares in 0.5.1, and only its value', () => {
      const event = ticketClosed()
      event.subject.type = 'ticket'
      expect(validateCDEvent(event).parsedType.eventClass).toBe('ticket.closed')
      event.subject.type = 'bug'
      expect(violationsOf(event)).toEqual([{ path: '/subject/type', message: expect.any(String) }])
    })

    it.each(['0.4.1', '0.4.0', '0.3.0', '0.6.0', '1.0.0', '0.5.1-rc.1'])('refuses specversion %s as unsupported', specversion => {
      const event = pipelineRunFinished()
      event.context.specversion = specversion
      const err = refusal(event)
      expect(err.code).toBe('CDG_UNSUPPORTED_SPEC_VERSION')
      expect(err.details).toMatchObject({ path: '/context/specversion', found: specversion, expected: '0.5.1' })
    })

    it('refuses a 0.4 envelope before looking at the rest', () => {
      const event = pipelineRunFinished()
      event.context.specversion = '0.4.1'
      event.subject.content.outcome = 'not-an-outcome'
      expect(refusal(event).code).toBe('CDG_UNSUPPORTED_SPEC_VERSION')
    })

    it.each(['0.5.0', '0.5.1', '0.5.12'])('accepts specversion %s', specversion => {
      const event = pipelineRunFinished()
      event.context.specversion = specversion
      expect(() => validateCDEvent(event)).not.toThrow()
    })

    it('reports a specversion that is no version at all as a violation', () => {
      const event = pipelineRunFinished()
      event.context.specversion = 'banana'
      expect(violationsOf(event)).toEqual([{ path: '/context/specversion', message: expect.any(String) }])
    })
  })

  describe('violations', () => {
    it('points at a broken enum', () => {
      const event = pipelineRunFinished()
      event.subject.content.outcome = 'maybe'
      expect(violationsOf(event)).toEqual([{ path: '/subject/content/outcome', message: expect.stringContaining('success') }])
    })

    it('points at a missing required field, not at its parent', () => {
      const event = pipelineRunFinished()
      event.context.type = 'dev.cdevents.pipelinerun.started.0.3.0'
      delete event.subject.content.outcome
      delete event.subject.content.uri
      expect(violationsOf(event)).toEqual([{ path: '/subject/content/uri', message: 'is required' }])
    })

    it('points at an unknown key, escaping it as a JSON pointer', () => {
      const event = pipelineRunFinished()
      event.subject.content['a/b~c'] = 1
      expect(violationsOf(event)).toEqual([{ path: '/subject/content/a~1b~0c', message: expect.any(String) }])
    })

    it('lists every violation at once', () => {
      const event = pipelineRunFinished()
      event.context.timestamp = 'yesterday'
      event.context.source = 'not a uri reference'
      delete event.subject.id
      event.subject.content.uri = '/relative'
      event.extra = true
      const paths = violationsOf(event).map(v => v.path).sort()
      expect(paths).toEqual(['/context/source', '/context/timestamp', '/extra', '/subject/content/uri', '/subject/id'])
    })

    it('reports only the matching link shape, by linkType', () => {
      const event = pipelineRunFinished()
      event.context.links = [
        { linkType: 'RELATION', target: { contextId: 'x' } },
        { linkType: 'PATH', from: { contextId: 'y' } },
        { linkType: 'SIDEWAYS' }
      ]
      expect(violationsOf(event)).toEqual([
        { path: '/context/links/0/linkKind', message: 'is required' },
        { path: '/context/links/2/linkType', message: expect.stringContaining('RELATION') }
      ])
    })

    it('summarises a failed oneOf as one violation', () => {
      const event = pipelineRunFinished()
      event.customData = 42
      expect(violationsOf(event)).toEqual([{ path: '/customData', message: 'must be of type object or string' }])
    })

    it('caps the number of reported violations', () => {
      const event = pipelineRunFinished()
      for (let i = 0; i < 500; i++) event.subject.content[`unknown${i}`] = i
      const violations = violationsOf(event)
      expect(violations).toHaveLength(MAX_REPORTED_VIOLATIONS)
    })

    it.each([
      ['not an object', [1, 2], ''],
      ['null', null, ''],
      ['no context', { subject: {} }, '/context'],
      ['context not an object', { context: 'x', subject: {} }, '/context'],
      ['no type', { context: { specversion: '0.5.1' }, subject: {} }, '/context/type'],
      ['type not a string', { context: { type: 7 }, subject: {} }, '/context/type']
    ])('refuses %s at %j', (_what, value, path) => {
      expect(violationsOf(value)).toEqual([{ path, message: expect.any(String) }])
    })

    it.each([
      'dev.cdevents.pipelinerun.finished.0.2.0',
      'dev.cdevents.pipelinerun.exploded.0.3.0',
      'dev.cdevents.approval.approved.0.1.0',
      'dev.cdeventsx.my_tool-resource.created.0.1.0',
      'dev.cdeventsx.mytool-resource.created.0.10.0',
      'com.example.something'
    ])('refuses the unknown type %s at /context/type', type => {
      const event = pipelineRunFinished()
      event.context.type = type
      expect(violationsOf(event)).toEqual([{ path: '/context/type', message: expect.any(String) }])
    })
  })
})
