/**
 * RFC 3339 `date-time` (section 5.6): full-date "T" full-time, with a mandatory offset. The
 * letters T and Z may be lowercase (RFC 3339 §5.6 note). Fractional digits are bounded so a
 * hostile attribute cannot make the matcher work on a huge string.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,32})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

/**
 * The Verifiability extension digests `RFC3339(UTC(time))`, so the same instant written with
 * any offset verifies alike (spec test vectors 3 and 4). The result is `YYYY-MM-DDTHH:MM:SSZ`:
 * whole seconds, because the extension says the time attribute is verifiable only to the
 * second (SDKs keep different sub-second precision; the later spec text makes truncation
 * explicit). For cdgossip nothing is lost: the CDEvent in the signed data carries the full
 * timestamp. Returns `undefined` for anything that is not a valid RFC 3339 date-time; leap
 * seconds (`:60`) are refused rather than guessed at.
 */
export function normalizeTime (value: string): string | undefined {
  // opening a record checks its time and then digests it: the same string twice in a row
  if (value !== lastValue) {
    lastValue = value
    lastNormalized = normalize(value)
  }
  return lastNormalized
}

let lastValue: string | undefined
let lastNormalized: string | undefined

function normalize (value: string): string | undefined {
  const m = RFC3339.exec(value)
  if (m === null) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4])
  const minute = Number(m[5])
  const second = Number(m[6])
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 59) return undefined

  let offsetMinutes = 0
  if (m[7] === undefined) {
    const offHour = Number(m[9])
    const offMinute = Number(m[10])
    if (offHour > 23 || offMinute > 59) return undefined
    offsetMinutes = (offHour * 60 + offMinute) * (m[8] === '-' ? -1 : 1)
  }

  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999
  const utc = new Date(0)
  utc.setUTCFullYear(year, month - 1, day)
  utc.setUTCHours(hour, minute - offsetMinutes, second, 0)
  const utcYear = utc.getUTCFullYear()
  if (utcYear < 0 || utcYear > 9999) return undefined
  return `${pad(utcYear, 4)}-${pad(utc.getUTCMonth() + 1, 2)}-${pad(utc.getUTCDate(), 2)}T${pad(utc.getUTCHours(), 2)}:${pad(utc.getUTCMinutes(), 2)}:${pad(utc.getUTCSeconds(), 2)}Z`
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
