import { expect } from 'vitest'
import { CdgossipError } from '../../src/errors.js'

/** The CdgossipError `fn` throws; fails the test when it returns or throws anything else. */
export function thrown (fn: () => unknown): CdgossipError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CdgossipError)
    return err as CdgossipError
  }
  throw new Error('expected a throw')
}
