import { describe, expect, it } from 'vitest'
import {
  dateTimeToEpochMs,
  formatUtcSeconds,
  fullDateToEpochMs,
  isDateTime,
  MAX_FRACTION_DIGITS,
  parseDateTime,
  RFC3339_DATE_TIME_PATTERN,
  sameInstant,
  truncatesTo
} from '../../src/events/index.js'

const VALID = [
  '2025-01-31T12:00:00Z',
  '2025-01-31t12:00:00z',
  '2025-01-31T23:30:00-05:00',
  '2024-02-29T00:00:00Z',
  '2000-02-29T00:00:00Z',
  '2023-03-20T14:27:05.315384Z',
  `2020-06-18T17:24:53.${'1'.repeat(MAX_FRACTION_DIGITS)}Z`,
  '0001-01-01T00:00:00Z',
  '0050-06-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '2020-06-18T17:24:53+23:59'
]

const INVALID: unknown[] = [
  '', 'yesterday', '2025-01-31', '2025-01-31T12:00:00', '2025-01-31 12:00:00Z', '2025-01-31T12:00Z',
  '2025-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2025-02-30T12:00:00Z', '2025-04-31T00:00:00Z', '2025-13-01T00:00:00Z',
  '2025-00-10T00:00:00Z', '2025-01-00T00:00:00Z', '2025-01-31T24:00:00Z', '2025-01-31T12:60:00Z',
  // a leap second cannot be placed on a timeline without a leap-second table
  '2016-12-31T23:59:60Z',
  '2025-01-31T12:00:00+24:00', '2025-01-31T12:00:00+01:60', '2025-01-31T12:00:00+0100', '2025-01-31T12:00:00+01',
  '2025-01-31T12:00:00.Z', `2020-06-18T17:24:53.${'1'.repeat(MAX_FRACTION_DIGITS + 1)}Z`,
  // the UTC form would fall outside years 0000..9999
  '0000-01-01T00:30:00+01:00', '9999-12-31T23:30:00-01:00',
  '２０２０-06-18T17:24:53Z', ' 2025-01-31T12:00:00Z', '2025-01-31T12:00:00Z\n',
  12, null, undefined, {}, ['2025-01-31T12:00:00Z']
]

describe('parseDateTime', () => {
  it.each(VALID)('accepts %s', (value) => {
    expect(isDateTime(value)).toBe(true)
    expect(new RegExp(RFC3339_DATE_TIME_PATTERN).test(value)).toBe(true)
  })

  it.each(INVALID)('refuses %j', (value) => {
    expect(parseDateTime(value)).toBeUndefined()
    expect(isDateTime(value)).toBe(false)
    expect(dateTimeToEpochMs(value)).toBeUndefined()
  })

  it('keeps the fraction digits as written', () => {
    expect(parseDateTime('2023-03-20T14:27:05.315384Z')).toEqual({ epochSeconds: Date.UTC(2023, 2, 20, 14, 27, 5) / 1000, fraction: '315384' })
    expect(parseDateTime('2023-03-20T14:27:05.3150Z')?.fraction).toBe('3150')
    expect(parseDateTime('2023-03-20T14:27:05Z')?.fraction).toBe('')
  })

  it('gives the epoch milliseconds Date.parse gives, where Date.parse is right', () => {
    for (const value of ['2024-01-01T01:00:00+01:00', '2023-03-20T14:27:05.315384Z', '1969-12-31T23:59:59.5Z', '2024-02-29T23:59:59.999999999-12:30', '1970-01-01T00:00:00Z']) {
      expect(dateTimeToEpochMs(value), value).toBe(Date.parse(value))
    }
  })

  it('parses a string read again by the next check once, and never mixes up strings', () => {
    const first = parseDateTime('2023-03-20T14:27:05.315384Z')
    expect(parseDateTime('2023-03-20T14:27:05.315384Z')).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
    // more strings in turn than are remembered, valid and invalid mixed: each still gets its own verdict
    const mixed = [...VALID, ...INVALID.filter((v): v is string => typeof v === 'string')]
    for (let round = 0; round < 3; round++) {
      for (const value of mixed) expect(dateTimeToEpochMs(value), value).toBe(VALID.includes(value) ? new Date(value.toUpperCase()).getTime() : undefined)
    }
  })

  it('reads years 0..99 as written, which Date.UTC does not', () => {
    expect(dateTimeToEpochMs('0050-06-01T00:00:00Z')).toBe(new Date('0050-06-01T00:00:00Z').getTime())
    expect(dateTimeToEpochMs('0050-06-01T00:00:00Z')).not.toBe(Date.UTC(50, 5, 1))
  })
})

describe('fullDateToEpochMs', () => {
  it('reads a real calendar date as its midnight UTC, and nothing else', () => {
    expect(fullDateToEpochMs('2024-02-29')).toBe(Date.UTC(2024, 1, 29))
    expect(fullDateToEpochMs('0050-01-01')).toBe(new Date('0050-01-01T00:00:00Z').getTime())
    for (const bad of ['2023-02-29', '2024-13-01', '2024-1-01', '2024-01-01T00:00:00Z', '', 7]) expect(fullDateToEpochMs(bad), String(bad)).toBeUndefined()
  })
})

describe('formatUtcSeconds', () => {
  it.each([
    ['2020-06-18T17:24:53Z', '2020-06-18T17:24:53Z'],
    ['2020-06-18T19:24:53+02:00', '2020-06-18T17:24:53Z'],
    ['2020-06-18t17:24:53.999999z', '2020-06-18T17:24:53Z'],
    ['2020-12-31T23:30:00-01:00', '2021-01-01T00:30:00Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00Z']
  ])('%s -> %s', (input, expected) => {
    const parsed = parseDateTime(input)
    expect(parsed).toBeDefined()
    if (parsed !== undefined) expect(formatUtcSeconds(parsed)).toBe(expected)
  })
})

describe('sameInstant', () => {
  it('compares instants across offsets and trailing zeros, beyond milliseconds', () => {
    expect(sameInstant('2024-01-01T00:00:00Z', '2023-12-31T19:00:00-05:00')).toBe(true)
    expect(sameInstant('2024-01-01T00:00:00.5Z', '2024-01-01T00:00:00.500000Z')).toBe(true)
    expect(sameInstant('2024-01-01T00:00:00.5000001Z', '2024-01-01T00:00:00.5Z')).toBe(false)
    expect(sameInstant('2024-01-01T00:00:00Z', '2024-01-01T00:00:00')).toBe(false)
    expect(sameInstant('0050-01-01T00:00:00Z', '1950-01-01T00:00:00Z')).toBe(false)
  })
})

describe('truncatesTo', () => {
  const timestamp = '2023-03-20T14:27:05.315384Z'

  it.each([
    ['the timestamp itself', timestamp],
    ['milliseconds, as JavaScript and its CloudEvents SDK write', '2023-03-20T14:27:05.315Z'],
    ['whole seconds', '2023-03-20T14:27:05Z'],
    ['one digit', '2023-03-20T14:27:05.3Z'],
    ['another offset', '2023-03-20T15:27:05.315+01:00'],
    ['a lowercase form', '2023-03-20t14:27:05.315z'],
    ['more digits that are zeros', '2023-03-20T14:27:05.31538400Z']
  ])('accepts %s', (_, time) => {
    expect(truncatesTo(time, timestamp)).toBe(true)
  })

  it.each([
    ['a rounded value', '2023-03-20T14:27:05.316Z'],
    ['a different microsecond', '2023-03-20T14:27:05.315385Z'],
    ['more digits that differ', '2023-03-20T14:27:05.3153841Z'],
    ['the next second', '2023-03-20T14:27:06Z'],
    ['the previous second', '2023-03-20T14:27:04.999Z'],
    ['the same wall clock in another offset', '2023-03-20T14:27:05.315+01:00'],
    ['a time that is not RFC 3339', '2023-03-20 14:27:05.315Z']
  ])('refuses %s', (_, time) => {
    expect(truncatesTo(time, timestamp)).toBe(false)
  })

  it('treats a timestamp with fewer digits as zeros after them', () => {
    expect(truncatesTo('2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00Z')).toBe(true)
    expect(truncatesTo('2024-01-01T00:00:00.001Z', '2024-01-01T00:00:00Z')).toBe(false)
  })

  it('is false when the reference is not RFC 3339', () => {
    expect(truncatesTo('2024-01-01T00:00:00Z', '2024-01-01 00:00:00Z')).toBe(false)
  })
})
