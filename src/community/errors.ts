import { CdgossipError } from '../errors.js'

export interface InvalidManifestDetails {
  /** the part at fault, e.g. `chain[2].signatures`, `nodes[3].sources[0]`, `version` */
  field: string
}

/** A community manifest or chain that is malformed, over its bounds, or not signed by the keys it needs. */
export class InvalidManifestError extends CdgossipError<InvalidManifestDetails> {
  constructor (field: string, message: string, options: { cause?: unknown } = {}) {
    super('CDG_INVALID_MANIFEST', message, { details: { field }, cause: options.cause })
    this.name = 'InvalidManifestError'
  }
}

export interface StaleManifestDetails {
  /** the community id (genesis root key) */
  id: string
  /** the version held */
  heldVersion: number
  /** the version offered */
  version: number
}

/** A manifest whose version is not higher than the one held: nothing to replace. */
export class StaleManifestError extends CdgossipError<StaleManifestDetails> {
  constructor (details: StaleManifestDetails) {
    const what = details.version === details.heldVersion ? 'is the version already held' : `is older than the held version ${details.heldVersion}`
    super('CDG_STALE_MANIFEST', `community ${details.id} manifest version ${details.version} ${what}`, { details })
    this.name = 'StaleManifestError'
  }
}
