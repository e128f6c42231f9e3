#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (built by `npm ci` via the prepare script).
import '../dist/src/polyfill.js'
const { main } = await import('../dist/src/cli/index.js')
process.exitCode = await main(process.argv.slice(2))
