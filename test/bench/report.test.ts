import { describe, expect, it } from 'vitest'
import { HAND_WRITTEN_MARKER, keepHandWritten } from '../../scripts/bench/report.js'

describe('BENCHMARKS.md regeneration', () => {
  it('replaces everything above the marker and keeps the marker and everything after it', () => {
    const previous = `# old figures\n\nold table\n\n${HAND_WRITTEN_MARKER}\n\n## Round 2\n\nA/B runs\n`
    expect(keepHandWritten('# new figures\n\nnew table\n', previous)).toBe(`# new figures\n\nnew table\n\n${HAND_WRITTEN_MARKER}\n\n## Round 2\n\nA/B runs\n`)
  })

  it('writes the generated text alone when there is no file or no marker in it', () => {
    expect(keepHandWritten('# new\n', undefined)).toBe('# new\n')
    expect(keepHandWritten('# new\n', '# old, all generated\n')).toBe('# new\n')
  })
})
