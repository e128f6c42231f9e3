import { formatUtcSeconds, parseDateTime } from '../events/index.js'

/**
 * The Verifiability extension digests `RFC3339(UTC(time))`, so the same instant written with
 * any offset verifies alike (spec test vectors 3 and 4). The result is `YYYY-MM-DDTHH:MM:SSZ`:
 * whole seconds, because the extension says the time attribute is verifiable only to the
 * second (SDKs keep different sub-second precision; the later spec text makes truncation
 * explicit). For cdgossip nothing is lost: the CDEvent in the signed data carries the full
 * timestamp. Returns `undefined` for anything that is not an RFC 3339 date-time as
 * events/rfc3339.ts defines it (leap seconds refused, UTC year within 0000..9999).
 */
export function normalizeTime (value: string): string | undefined {
  // opening a record checks its time and then digests it: the same string twice in a row
  if (value !== lastValue) {
    lastValue = value
    const parsed = parseDateTime(value)
    lastNormalized = parsed === undefined ? undefined : formatUtcSeconds(parsed)
  }
  return lastNormalized
}

let lastValue: string | undefined
let lastNormalized: string | undefined
