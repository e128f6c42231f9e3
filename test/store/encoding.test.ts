import { describe, it, expect } from 'vitest'
import {
  counterFromKey, cursorKey, decodeCursor, encodeCursor, escapeKeyPart, indexedSourcePrefix, parseInstant,
  sequenceKey, sourcePrefixes, timeKey, hourKey, summaryHour, MAX_SOURCE_PREFIX_DEPTH
} from '../../src/store/keys.js'
import { decodeStoredRecord, encodeStoredValue, wireBytesOf } from '../../src/store/record.js'
import { makeEvent } from './fixtures.js'
import type { CdgossipError } from '../../src/errors.js'

function codeOf (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as CdgossipError).code
  }
  return undefined
}

describe('store key encodings', () => {
  it('round-trips cursors and keeps cursor keys in numeric order', () => {
    const counters = [0, 1, 35, 36, 1295, 1296, 10 ** 9, Number.MAX_SAFE_INTEGER]
    for (const n of counters) {
      expect(decodeCursor(encodeCursor(n))).toBe(n)
      expect(counterFromKey(`prefix\u0000${cursorKey(n)}`)).toBe(n)
    }
    const keys = counters.map(cursorKey)
    expect([...keys].sort()).toEqual(keys)
  })

  it('rejects non-canonical and out-of-range cursors', () => {
    for (const bad of ['', '00', '0a', 'A', '-1', ' 1', '1 ', 'zzzzzzzzzzz', '1'.repeat(12)]) {
      expect(codeOf(() => decodeCursor(bad)), bad).toBe('CDG_INVALID_REQUEST')
    }
  })

  it('orders sequence and time keys numerically', () => {
    expect(sequenceKey(9) < sequenceKey(10)).toBe(true)
    expect(timeKey(-1) < timeKey(0)).toBe(true)
    expect(timeKey(Date.parse('1969-12-31T00:00:00Z')) < timeKey(Date.parse('2024-01-01T00:00:00Z'))).toBe(true)
  })

  it('gives the arrival summary hours from 1970 to 2100, times outside sharing the edge hours', () => {
    const hour = summaryHour(Date.parse('2024-03-10T10:00:00Z'))
    expect(summaryHour(Date.parse('2024-03-10T10:59:59.999Z'))).toBe(hour)
    expect(summaryHour(Date.parse('2024-03-10T12:00:00+02:00'))).toBe(hour)
    expect(summaryHour(Date.parse('2024-03-10T09:59:59.999Z'))).toBe(hour - 1)
    expect(summaryHour(-8.64e15)).toBe(summaryHour(0))
    expect(summaryHour(8.64e15)).toBe(summaryHour(Date.parse('2100-01-01T00:00:00Z')))
    expect(summaryHour(8.64e15)).toBeGreaterThan(summaryHour(Date.parse('2099-12-31T23:00:00Z')))
    const keys = [0, hour, summaryHour(8.64e15)].map(hourKey)
    expect([...keys].sort()).toEqual(keys)
    expect(new Set(keys.map((k) => k.length)).size).toBe(1)
  })

  it('escapes separators so no value part contains \\x00', () => {
    expect(escapeKeyPart('plain')).toBe('plain')
    expect(escapeKeyPart('a\u0000b').includes('\u0000')).toBe(false)
    expect(escapeKeyPart('a\u0000b')).not.toBe(escapeKeyPart('a\u0001b'))
    expect(escapeKeyPart('a\u0001\u0001b')).not.toBe(escapeKeyPart('a\u0000b'))
  })

  it('indexes source prefixes at slashes and maps queries onto them', () => {
    expect(sourcePrefixes('https://ci.example.org/jobs/1')).toEqual(['https://ci.example.org/', 'https://ci.example.org/jobs/'])
    expect(sourcePrefixes('/event/source/123')).toEqual(['/', '/event/', '/event/source/'])
    expect(sourcePrefixes('a//b/')).toEqual(['a/', 'a//b/'])
    expect(sourcePrefixes('mytool')).toEqual([])
    expect(sourcePrefixes('/a/b/c/d/e/f/g/h/i/j/k')).toHaveLength(MAX_SOURCE_PREFIX_DEPTH)
    expect(indexedSourcePrefix('https://ci.example.org/jo')).toBe('https://ci.example.org/')
    expect(indexedSourcePrefix('https://ci.example.org/jobs/')).toBe('https://ci.example.org/jobs/')
    expect(indexedSourcePrefix('urn:x')).toBeUndefined()
    expect(indexedSourcePrefix('https://')).toBeUndefined()
  })

  it('accepts RFC 3339 date-times and dates, and rejects ambiguous or partial ones', () => {
    expect(parseInstant('2024-01-01T01:00:00+01:00', 'since')).toBe(Date.UTC(2024, 0, 1))
    expect(parseInstant('2024-01-01', 'since')).toBe(Date.UTC(2024, 0, 1))
    expect(parseInstant('2024-01-01T00:00:00.123456Z', 'since')).toBe(Date.UTC(2024, 0, 1) + 123)
    for (const bad of ['2024-01-01T00:00:00', '2024-02-30', '2024-01-01T12:00Z', '2024-01-01 12:00:00Z', 'Jan 1 2024', '2024-02-30T00:00:00Z', '1'.repeat(100)]) {
      expect(codeOf(() => parseInstant(bad, 'since')), bad).toBe('CDG_INVALID_REQUEST')
    }
  })
})

describe('stored record encoding', () => {
  it('rebuilds the event from its stored value without the original object', () => {
    const event = makeEvent({ sequence: 42, chainId: 'c-1' })
    const value = encodeStoredValue(event, { counter: 77, receivedAtMs: Date.UTC(2024, 4, 1), trusted: false })
    const stored = decodeStoredRecord(event.digest, value)
    expect(stored.cursor).toBe((77).toString(36))
    expect(stored.receivedAt).toBe('2024-05-01T00:00:00.000Z')
    expect(stored.trusted).toBe(false)
    expect(stored.event.sequence).toBe(42)
    expect(stored.event.origin).toBe(event.origin)
    expect(stored.event.eventClass).toBe('pipelinerun.finished')
    expect(stored.event.attributes).toEqual(event.attributes)
    expect(stored.event.cdevent).toEqual(event.cdevent)
    expect(Buffer.from(stored.event.bytes).equals(Buffer.from(event.bytes))).toBe(true)
  })

  it('reads the wire bytes alone, and refuses a broken header as decodeStoredRecord does', () => {
    const event = makeEvent({ sequence: 7 })
    const value = encodeStoredValue(event, { counter: 3, receivedAtMs: 0, trusted: true })
    expect(Buffer.from(wireBytesOf(event.digest, value)).equals(Buffer.from(event.bytes))).toBe(true)
    for (const bad of [value.subarray(0, 10), Uint8Array.from([9, ...value.subarray(1)]), value.subarray(0, value.length - event.bytes.length)]) {
      expect(() => wireBytesOf(event.digest, bad)).toThrow(expect.objectContaining({ code: 'CDG_STORE' }) as Error)
    }
  })

  it('fails loudly with CDG_STORE on corrupt values', () => {
    const event = makeEvent({ sequence: 1 })
    const value = encodeStoredValue(event, { counter: 1, receivedAtMs: 0, trusted: true })
    const headerLength = value.length - event.bytes.length
    const withWire = (wire: string): Uint8Array => {
      const bytes = new TextEncoder().encode(wire)
      const out = new Uint8Array(headerLength + bytes.length)
      out.set(value.subarray(0, headerLength))
      out.set(bytes, headerLength)
      return out
    }
    const wire = JSON.parse(new TextDecoder().decode(event.bytes)) as Record<string, unknown>
    const corrupt = [
      value.subarray(0, 10),
      Uint8Array.from([9, ...value.subarray(1)]),
      withWire('{not json'),
      withWire('[]'),
      withWire(JSON.stringify({ ...wire, sequence: '0' })),
      withWire(JSON.stringify({ ...wire, sequence: '0000000000000000' })),
      withWire(JSON.stringify({ ...wire, sequence: '9999999999999999' })),
      withWire(JSON.stringify({ ...wire, id: 5 })),
      withWire(JSON.stringify({ ...wire, data_base64: undefined }))
    ]
    for (const [i, bad] of corrupt.entries()) {
      expect(codeOf(() => decodeStoredRecord(event.digest, bad)), String(i)).toBe('CDG_STORE')
    }
    // a broken data payload is only noticed when cdevent is read
    const lazy = decodeStoredRecord(event.digest, withWire(JSON.stringify({ ...wire, data_base64: Buffer.from('{oops').toString('base64') })))
    expect(codeOf(() => lazy.event.cdevent)).toBe('CDG_STORE')
  })
})
