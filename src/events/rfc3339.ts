/**
 * The one RFC 3339 `date-time` parser (section 5.6): `full-date "T" full-time` with a mandatory
 * offset, as CloudEvents `time`, CDEvents `context.timestamp`, subscription start times and query
 * bounds use it. Everything that reads a date-time (the consistency check of a CloudEvent with
 * its CDEvent, the Verifiability extension's time digest, the store's time index and query
 * bounds, subscription input) goes through here, so they all accept the same strings.
 *
 * What is accepted, exactly:
 * - `T` and `Z` in either case (the RFC's note allows lowercase); not a space instead of `T`
 *   (the ABNF has no space; the note only says an application *may* choose one);
 * - an offset `Z` or `±hh:mm` with hh ≤ 23 and mm ≤ 59 (no `+0100`, no `+01`);
 * - a fraction of 1 to MAX_FRACTION_DIGITS digits, kept as written;
 * - real calendar dates only (`2023-02-29` is refused; leap years per the Gregorian rules);
 * - no leap second (`:60`): no clock here can tell when one happened, and an instant that cannot
 *   be converted to UTC cannot be compared, indexed or digested;
 * - instants whose UTC date lies in years 0000..9999, the ones RFC 3339 can write in UTC (the
 *   Verifiability extension digests the UTC form).
 */

/**
 * Longest fraction of a second accepted. The RFC's ABNF has no limit; the bound keeps a hostile
 * attribute from making the matcher and the comparisons work on a huge string. 32 digits is far
 * beyond any clock (nanoseconds are 9).
 */
export const MAX_FRACTION_DIGITS = 32

/** The JSON Schema `pattern` of an RFC 3339 date-time (shape only: parseDateTime checks the calendar). */
export const RFC3339_DATE_TIME_PATTERN = `^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,${MAX_FRACTION_DIGITS}})?(?:[Zz]|[+-]\\d{2}:\\d{2})$`

/** The longest string the pattern can match; anything longer is refused before the regex runs. */
const MAX_DATE_TIME_LENGTH = 'YYYY-MM-DDTHH:MM:SS.'.length + MAX_FRACTION_DIGITS + '+hh:mm'.length

const DATE_TIME = new RegExp(`^(\\d{4})-(\\d{2})-(\\d{2})[Tt](\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,${MAX_FRACTION_DIGITS}}))?(?:[Zz]|([+-])(\\d{2}):(\\d{2}))$`)

const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

const SECONDS_PER_DAY = 86_400
/** UTC seconds of 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the range RFC 3339 can write in UTC. */
const FIRST_SECOND = daysFromCivil(0, 1, 1) * SECONDS_PER_DAY
const END_SECOND = daysFromCivil(10_000, 1, 1) * SECONDS_PER_DAY

/** A parsed date-time: the instant as whole UTC seconds and the fraction digits as written. */
export interface DateTime {
  /** whole seconds since 1970-01-01T00:00:00Z (negative before) */
  readonly epochSeconds: number
  /** digits of the fraction of a second as written (`''` when there is none); its length is the precision */
  readonly fraction: string
}

/**
 * The last few strings parsed and what they gave. A received record's time and timestamp are read
 * by the record's own checks, the CloudEvent consistency check, the store's time index and every
 * live stream's filter: five or six parses of the same one or two strings, each a regex match of
 * eleven captures. With this they are parsed once. (The schemas' `date-time` format is
 * ajv-formats' own: schema validation keeps the official verdicts, see the differential test.)
 */
const RECENT_SIZE = 4
const recentInputs: string[] = []
const recentResults: Array<DateTime | undefined> = []
let recentNext = 0

/** Parses an RFC 3339 date-time (see the module comment); `undefined` for anything else. */
export function parseDateTime (value: unknown): DateTime | undefined {
  if (typeof value !== 'string' || value.length > MAX_DATE_TIME_LENGTH) return undefined
  const i = recentInputs.indexOf(value)
  if (i >= 0) return recentResults[i]
  const parsed = parseUncached(value)
  recentInputs[recentNext] = value
  recentResults[recentNext] = parsed
  recentNext = (recentNext + 1) % RECENT_SIZE
  return parsed
}

function parseUncached (value: string): DateTime | undefined {
  const m = DATE_TIME.exec(value)
  if (m === null) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4])
  const minute = Number(m[5])
  const second = Number(m[6])
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 59) return undefined
  let offsetSeconds = 0
  if (m[8] !== undefined) {
    const offsetHour = Number(m[9])
    const offsetMinute = Number(m[10])
    if (offsetHour > 23 || offsetMinute > 59) return undefined
    offsetSeconds = (offsetHour * 3600 + offsetMinute * 60) * (m[8] === '-' ? -1 : 1)
  }
  const epochSeconds = daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offsetSeconds
  if (epochSeconds < FIRST_SECOND || epochSeconds >= END_SECOND) return undefined
  // frozen: the same object is handed to every caller that parses this string again
  return Object.freeze({ epochSeconds, fraction: m[7] ?? '' })
}

/** Whether the value is an RFC 3339 date-time naming a real instant. */
export function isDateTime (value: unknown): value is string {
  return parseDateTime(value) !== undefined
}

/** Milliseconds since the epoch, the fraction truncated to milliseconds (as Date.parse does). */
export function epochMsOf (dateTime: DateTime): number {
  return dateTime.epochSeconds * 1000 + Number(dateTime.fraction.slice(0, 3).padEnd(3, '0'))
}

/** Epoch milliseconds of an RFC 3339 date-time; `undefined` for anything else. */
export function dateTimeToEpochMs (value: unknown): number | undefined {
  const parsed = parseDateTime(value)
  return parsed === undefined ? undefined : epochMsOf(parsed)
}

/**
 * Epoch milliseconds of an RFC 3339 `full-date` (`2024-01-31`) taken as its first instant in UTC,
 * for query bounds where a day is the natural unit; `undefined` for anything else (calendar
 * checked like a date-time's date).
 */
export function fullDateToEpochMs (value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined
  const m = FULL_DATE.exec(value)
  if (m === null) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  return daysFromCivil(year, month, day) * SECONDS_PER_DAY * 1000
}

/** `YYYY-MM-DDTHH:MM:SSZ`: the instant in UTC, whole seconds. */
export function formatUtcSeconds (dateTime: DateTime): string {
  // Date's UTC getters are exact for years 0..9999 (only Date.UTC maps 0..99 to 1900..1999)
  const d = new Date(dateTime.epochSeconds * 1000)
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}Z`
}

/**
 * Whether two RFC 3339 date-times name the same instant, whatever their offsets and trailing
 * zeros (`2024-01-01T01:00:00.50+01:00` = `2024-01-01T00:00:00.5Z`). False when either is invalid.
 */
export function sameInstant (a: string, b: string): boolean {
  const x = parseDateTime(a)
  const y = parseDateTime(b)
  return x !== undefined && y !== undefined && x.epochSeconds === y.epochSeconds &&
    x.fraction.replace(/0+$/, '') === y.fraction.replace(/0+$/, '')
}

/**
 * Whether `time` is the instant `reference` names, truncated to `time`'s own precision (the
 * number of fraction digits it writes, none meaning whole seconds), in any offset. So for a
 * reference of `2023-03-20T14:27:05.315384Z`: `…05.315384Z`, `…05.315Z` (what JavaScript's
 * `Date#toISOString` writes), `…05Z` and `2023-03-20T15:27:05.315+01:00` qualify; `…05.316Z`
 * (rounded) and `…05.3153841Z` (more precise, different) do not. A `time` more precise than the
 * reference qualifies only when the extra digits are zeros (it is then the same instant).
 * Truncation commutes with offsets because offsets are whole minutes. False when either is invalid.
 */
export function truncatesTo (time: string, reference: string): boolean {
  const t = parseDateTime(time)
  const r = parseDateTime(reference)
  if (t === undefined || r === undefined || t.epochSeconds !== r.epochSeconds) return false
  return r.fraction.slice(0, t.fraction.length).padEnd(t.fraction.length, '0') === t.fraction
}

function pad (n: number, width: number): string {
  return String(n).padStart(width, '0')
}

function isLeapYear (year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

function daysInMonth (year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date, by integer arithmetic (H. Hinnant's
 * days_from_civil), so years 0..99 mean what they say.
 */
function daysFromCivil (year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}
