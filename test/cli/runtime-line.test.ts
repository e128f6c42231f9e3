import { describe, expect, it } from 'vitest'
import { runtimeLine } from '../../src/cli/run.js'

describe('the start banner names the runtime', () => {
  it('tells an operator on Node 20 or older that it is end of life and to run 24', () => {
    expect(runtimeLine('v20.20.2')).toBe('  node.js   v20.20.2   (end of life since April 2026, no security fixes: run Node.js 24, which is also faster)')
    expect(runtimeLine('v18.20.0')).toContain('end of life')
  })

  it('names a supported line plainly', () => {
    expect(runtimeLine('v22.12.0')).toBe('  node.js   v22.12.0')
    expect(runtimeLine('v24.22.3')).toBe('  node.js   v24.22.3')
  })

  it('gives no advice on a version it cannot read', () => {
    expect(runtimeLine('nightly')).toBe('  node.js   nightly')
  })
})
