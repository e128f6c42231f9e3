#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (built by `npm ci` via the prepare script).
import '../dist/src/polyfill.js'
if (process.argv[2] === 'start') {
  // a node re-executes itself here with jemalloc preloaded when it is installed, and a capped young generation (src/cli/memory-setup.ts)
  const { prepareMemory } = await import('../dist/src/cli/memory-setup.js')
  const problem = prepareMemory()
  if (problem !== undefined) {
    process.stderr.write(`cdgossip start: ${problem}\n`)
    process.exit(3)
  }
}
const { main } = await import('../dist/src/cli/index.js')
process.exitCode = await main(process.argv.slice(2))
