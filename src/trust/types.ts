import type { EventClass } from '../events/types.js'

/** One community this node accepts events from. */
export interface TrustEntry {
  /** the community's peer ID (Ed25519), the DSSE keyid of everything it signs */
  peerId: string
  /** human name shown in queries, peers and logs, e.g. `onap` */
  name: string
  /** CloudEvent `source` prefixes it may sign for; `*` means any source */
  sources: string[]
  /** class patterns it may publish (`*`, `artifact.*`, `pipelinerun.finished`); default all */
  classes: string[]
}

/**
 * `allowlist`: only listed communities, within their sources and classes.
 * `open`: any valid signature is accepted; events outside the allow-list are marked untrusted.
 */
export type TrustMode = 'allowlist' | 'open'

export interface TrustVerdict {
  trusted: boolean
  /** trust name of the signer when known (`self` for this node) */
  name?: string
}

export interface TrustCheck {
  origin: string
  source: string
  eventClass: EventClass
}
