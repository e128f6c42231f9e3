import { describe, expect, it } from 'vitest'
import {
  decodeCDEventData,
  encodeCDEventData,
  STANDARD_EVENT_CLASSES,
  toCloudEventAttributes,
  validateCDEvent
} from '../../src/events/index.js'
import { loadExamples, SKIP_REASON, SPEC_AVAILABLE } from './cdevents-spec.js'

describe.skipIf(!SPEC_AVAILABLE)(`official conformance examples${SPEC_AVAILABLE ? '' : ` (${SKIP_REASON})`}`, () => {
  const examples = SPEC_AVAILABLE ? loadExamples() : []

  it('covers every standard event class and the custom event', () => {
    const classes = new Set<string>()
    for (const { event } of examples) classes.add(validateCDEvent(event).parsedType.eventClass)
    for (const eventClass of STANDARD_EVENT_CLASSES) expect(classes.has(eventClass), eventClass).toBe(true)
    expect(classes.has('x.mytool-resource.created')).toBe(true)
    expect(examples).toHaveLength(46)
  })

  it.each(examples.map(e => [e.name, e.event] as const))('%s validates', (name, event) => {
    const { cdevent, parsedType } = validateCDEvent(event)
    expect(cdevent).toBe(event)
    const context = event.context as { type: string }
    expect(context.type.endsWith(`.${parsedType.version}`)).toBe(true)
    expect(parsedType.kind).toBe(name.startsWith('custom/') ? 'custom' : 'standard')
    if (parsedType.kind === 'standard') {
      // conformance/<subject>_<predicate>.json
      expect(name).toBe(`conformance/${parsedType.subject}_${parsedType.predicate}.json`)
    }
  })

  it.each(examples.map(e => [e.name, e.event] as const))('%s survives encode → decode → validate byte-identically', (_name, event) => {
    const { cdevent } = validateCDEvent(event)
    const bytes = encodeCDEventData(cdevent)
    const decoded = decodeCDEventData(bytes)
    expect(decoded).toEqual(event)
    const again = validateCDEvent(decoded).cdevent
    expect(Buffer.from(encodeCDEventData(again)).equals(Buffer.from(bytes))).toBe(true)
    const attrs = toCloudEventAttributes(again)
    expect(attrs.subject).toBe(again.subject.id)
    expect(attrs.time).toBe(again.context.timestamp)
  })
})
