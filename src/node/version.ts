import { readFileSync } from 'node:fs'

/** The package version; the module runs from src/node/ (tests) or dist/src/node/ (the CLI). */
function readVersion (): string {
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'cdgossip' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // not at this depth: try the next
    }
  }
  return '0.0.0'
}

export const VERSION: string = readVersion()
