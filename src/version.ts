import { readFileSync } from 'node:fs'

/**
 * Where package.json is from this module: src/ when run from source (tests), dist/src/ when
 * compiled (the bin). The name check keeps a parent project's package.json from answering.
 */
const PACKAGE_JSON_PATHS = ['../package.json', '../../package.json']

/** The package version, read once when first imported; `0.0.0` if package.json is not found. */
function readVersion (): string {
  for (const path of PACKAGE_JSON_PATHS) {
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
