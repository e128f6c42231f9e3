import { CdgossipError } from '../../src/errors.js'

export interface DemoTimeoutDetails {
  /** what the demo waited for */
  what: string
  timeoutMs: number
  /** what was still missing at the deadline, one readable line each */
  missing: string[]
}

/** Something the demo waited for did not happen before its deadline. */
export class DemoTimeoutError extends CdgossipError<DemoTimeoutDetails> {
  constructor (details: DemoTimeoutDetails) {
    const missing = details.missing.length === 0 ? '' : `; still missing:\n${details.missing.map(m => `  - ${m}`).join('\n')}`
    super('CDG_TIMEOUT', `timed out after ${details.timeoutMs} ms waiting for ${details.what}${missing}`, { details })
    this.name = 'DemoTimeoutError'
  }
}

/** The demo was interrupted (Ctrl-C, SIGTERM, or the caller's signal). */
export class DemoAbortedError extends CdgossipError {
  constructor (cause?: unknown) {
    super('CDG_ABORTED', 'demo interrupted', { cause })
    this.name = 'DemoAbortedError'
  }
}
