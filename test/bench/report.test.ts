import { describe, expect, it } from 'vitest'
import { DEFAULT_OPTIONS } from '../../scripts/bench/context.js'
import { HAND_WRITTEN_MARKER, keepHandWritten, renderMarkdown, type BenchRun } from '../../scripts/bench/report.js'

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

describe('the machine lines', () => {
  const run = (heapLimitMiB?: number): BenchRun => ({
    date: '2026-12-03T08:00:00.000Z',
    command: 'npm run bench',
    machine: { cpu: 'CPU', cores: 2, ramGiB: 23.5, os: 'Linux', node: 'v24.1.0', ...(heapLimitMiB === undefined ? {} : { heapLimitMiB }) },
    options: DEFAULT_OPTIONS,
    baseline: { skipped: 'not installed' },
    durationSeconds: 1,
    parts: [],
    failures: []
  })

  it('give V8\'s heap limit, which sets how much garbage a node gathers before a full collection', () => {
    expect(renderMarkdown(run(4144))).toContain('- Node.js v24.1.0, V8 heap limit 4,144 MiB (sized from the RAM;')
    expect(renderMarkdown(run())).toContain('- Node.js v24.1.0\n')
  })
})
