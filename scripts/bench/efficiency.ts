import { round } from './stats.js'

/**
 * Efficiency: how close a scenario gets to the CPU floor of its per-event work. The floor is
 * what the unavoidable operations cost when measured alone on the same workload (floor.ts); the
 * actual cost is the CPU all processes used per delivered event (proc-cpu.ts).
 */

/** µs of CPU per operation, measured by floor.ts on the bench workload. */
export interface FloorCosts {
  /** Ed25519 sign of a record's DSSE pre-authentication encoding (libsodium through signing/) */
  signUs: number
  /** Ed25519 verify of the same */
  verifyUs: number
  /** sha256 of the record's wire bytes */
  sha256Us: number
  /** JSON.parse of the CDEvent's JSON text */
  parseUs: number
  /** schema validation of the parsed CDEvent (events/validate.ts) */
  validateUs: number
  /** LevelDB write of one record with all the index entries store/ writes for it, in batches of 100 */
  storeBatchUs: number
  /** the same, one record per batch */
  storeSingleUs: number
  /** store/'s own append (its reads before the write included), batches of 100: for comparison */
  storeAppendUs: number
  /** LevelDB entries per record (the record and its indexes) */
  entriesPerRecord: number
  /** average wire size of the records measured */
  recordBytes: number
}

/** How many of each operation one delivered event needs at the least. */
export interface FloorRecipe {
  sign: number
  verify: number
  sha256: number
  /** JSON.parse + schema validation */
  parseValidate: number
  /** store appends, counted at the batched cost */
  store: number
  /**
   * LevelDB compaction rewrites what the appends wrote; it is counted at the append's own cost
   * per store (the estimate), since it runs on LevelDB's threads after the appends.
   */
  compaction: number
}

/**
 * Three communities: A validates and signs (1 parse, 1 sign, 1 hash, 1 store); B and C each
 * verify, hash, parse, validate and store. Relaying, HTTP, gossip framing and delivery over SSE
 * are overhead, not floor.
 */
export const FEDERATION_FLOOR: FloorRecipe = { sign: 1, verify: 2, sha256: 3, parseValidate: 3, store: 3, compaction: 3 }

/** Catch-up: the restarted node verifies, hashes, parses, validates and stores; A's reads are not counted. */
export const CATCHUP_FLOOR: FloorRecipe = { sign: 0, verify: 1, sha256: 1, parseValidate: 1, store: 1, compaction: 1 }

/** The floor of one delivered event, in µs. */
export function floorPerEventUs (costs: FloorCosts, recipe: FloorRecipe): number {
  return round(
    recipe.sign * costs.signUs +
    recipe.verify * costs.verifyUs +
    recipe.sha256 * costs.sha256Us +
    recipe.parseValidate * (costs.parseUs + costs.validateUs) +
    (recipe.store + recipe.compaction) * costs.storeBatchUs,
    1
  )
}

/** The recipe in words, for the report. */
export function describeRecipe (recipe: FloorRecipe): string {
  const parts: Array<[number, string]> = [
    [recipe.sign, 'sign'], [recipe.verify, 'verify'], [recipe.sha256, 'sha256'],
    [recipe.parseValidate, 'parse + validate'], [recipe.store, 'store (batched)'], [recipe.compaction, 'compaction (= store)']
  ]
  return parts.filter(([n]) => n > 0).map(([n, what]) => `${n} × ${what}`).join(', ')
}

export interface Efficiency {
  /** events the window delivered (held by every subscriber) */
  events: number
  /** CPU of every process in the window, ms */
  cpuMs: number
  /** µs of CPU per delivered event */
  cpuPerEventUs: number
  floorUs: number
  /** floor ÷ actual, in % */
  percent: number
}

/** µs of CPU per event for `events` delivered with `cpuMs`; undefined when nothing was delivered or measured. */
export function cpuPerEventUs (cpuMs: number | undefined, events: number): number | undefined {
  if (cpuMs === undefined || events <= 0 || cpuMs <= 0 || !Number.isFinite(cpuMs)) return undefined
  return round(cpuMs * 1000 / events, 1)
}

/** Floor ÷ actual for `events` delivered with `cpuMs` of CPU; undefined when nothing was delivered. */
export function efficiencyOf (floorUs: number, cpuMs: number, events: number): Efficiency | undefined {
  const perEvent = cpuPerEventUs(cpuMs, events)
  if (perEvent === undefined) return undefined
  return { events, cpuMs: round(cpuMs, 0), cpuPerEventUs: perEvent, floorUs, percent: round(floorUs / (cpuMs * 1000 / events) * 100, 1) }
}
