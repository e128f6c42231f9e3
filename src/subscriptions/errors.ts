import { InvalidRequestError } from '../errors.js'

export interface InvalidSubscriptionDetails {
  /** the offending field, e.g. `classes[1]`, `sink.url`, `start.time` */
  field: string
}

/** A subscription failed validation; `details.field` names the field. */
export class InvalidSubscriptionError extends InvalidRequestError {
  declare readonly details: InvalidSubscriptionDetails

  constructor (field: string, message: string) {
    super(message, { field } satisfies InvalidSubscriptionDetails)
    this.name = 'InvalidSubscriptionError'
  }
}

/**
 * A subscription with this id exists already. Code CDG_INVALID_REQUEST until ERROR_CODES has a
 * conflict code; branch on the name (or instanceof) to answer 409.
 */
export class DuplicateSubscriptionError extends InvalidRequestError {
  declare readonly details: { id: string }

  constructor (id: string) {
    super(`subscription ${id} already exists`, { id })
    this.name = 'DuplicateSubscriptionError'
  }
}

/** Subscriptions from the config file are removed by editing the file, not over the API. */
export class ConfigSubscriptionError extends InvalidRequestError {
  declare readonly details: { id: string }

  constructor (id: string) {
    super(`subscription ${id} comes from the config file; remove it there and restart`, { id })
    this.name = 'ConfigSubscriptionError'
  }
}
