import { isStandardEventClass } from '../events/index.js'
import type { EventClass } from '../events/types.js'

/** Label value for anything past a label's cap. */
export const OTHER_LABEL = 'other'
/** Class label of an event refused before its class could be read (undecodable, unknown type). */
export const UNKNOWN_CLASS_LABEL = 'unknown'
/** Route label of a request no route matched (404s): the raw URL never becomes a label. */
export const UNMATCHED_ROUTE_LABEL = 'unmatched'

/** HTTP methods kept as a label value; anything else is `other`. */
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/**
 * A label whose values come from outside (custom event classes, subscription ids): the first
 * `max` values admitted keep their own series, later ones share `other`, so a flood of new
 * values cannot grow the registry without bound.
 */
export class BoundedLabel {
  private readonly max: number
  private readonly admitted = new Set<string>()

  constructor (max: number) {
    this.max = max
  }

  /**
   * The label for `value`. Only `admit` adds a value to the set; anything not admitted yet is
   * `other`, so callers admit values from trusted paths only.
   */
  label (value: string, admit: boolean): string {
    if (this.admitted.has(value)) return value
    if (admit && this.admitted.size < this.max) {
      this.admitted.add(value)
      return value
    }
    return OTHER_LABEL
  }
}

/**
 * The `class` label: the 45 standard classes as they are; custom classes (`x.<tool>-…`) by name
 * once admitted (see BoundedLabel), else `other`; `unknown` when the class is not known.
 */
export class ClassLabels {
  private readonly custom: BoundedLabel

  constructor (maxCustom: number) {
    this.custom = new BoundedLabel(maxCustom)
  }

  label (eventClass: EventClass | undefined, admit: boolean): string {
    if (eventClass === undefined) return UNKNOWN_CLASS_LABEL
    if (isStandardEventClass(eventClass)) return eventClass
    return this.custom.label(eventClass, admit)
  }
}

export function methodLabel (method: string): string {
  return HTTP_METHODS.has(method) ? method : OTHER_LABEL
}
