import { readdir, readFile } from 'node:fs/promises'
import { join, relative, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * Keeps the data flow one-way (DESIGN.md, STYLE.md rule 4): each folder may import only the
 * folders listed for it; only node.ts wires everything; nothing imports the composition root
 * except the entry points.
 */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src')

const ALLOWED: Record<string, string[]> = {
  trace: ['events', 'store'],
  events: [],
  signing: ['events'],
  store: ['events'],
  trust: ['events'],
  subscriptions: ['events', 'store', 'trust'],
  p2p: ['events', 'signing', 'store'],
  delivery: ['events', 'store', 'subscriptions'],
  pipeline: ['events', 'signing', 'store', 'trust', 'subscriptions', 'p2p', 'api'],
  api: ['events', 'store', 'trust', 'subscriptions', 'delivery', 'p2p', 'trace'],
  metrics: ['events', 'p2p', 'delivery', 'store']
}
/** api may know p2p's and delivery's *types* only: it talks to the node through NodeFacade */
const TYPE_ONLY: Record<string, string[]> = {
  api: ['p2p', 'delivery'],
  trace: ['store'],
  pipeline: ['api', 'p2p'],
  subscriptions: ['store'],
  p2p: ['store'],
  metrics: ['p2p', 'delivery', 'store']
}
const ENTRY_POINTS = new Set(['node.ts', 'run.ts', 'index.ts'])

async function sourceFiles (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...await sourceFiles(path))
    else if (entry.name.endsWith('.ts')) out.push(path)
  }
  return out
}

interface Import { from: string, target: string, typeOnly: boolean }

async function imports (): Promise<Import[]> {
  const out: Import[] = []
  for (const file of await sourceFiles(SRC)) {
    const text = await readFile(file, 'utf8')
    // `import … from './x.js'`, `export … from './x.js'` and side-effect `import './x.js'`
    for (const m of text.matchAll(/^(import|export)\s+(type\s+)?(?:[^'"]*?from\s+)?'(\.[^']+)'/gm)) {
      const target = relative(SRC, resolve(dirname(file), m[3] as string))
      out.push({ from: relative(SRC, file), target, typeOnly: m[2] !== undefined })
    }
  }
  return out
}

const folderOf = (path: string): string => path.includes('/') ? path.slice(0, path.indexOf('/')) : path

describe('architecture', () => {
  it('each folder imports only the folders its layer allows', async () => {
    const problems: string[] = []
    for (const imp of await imports()) {
      const from = folderOf(imp.from)
      const to = folderOf(imp.target)
      const allowed = ALLOWED[from]
      if (allowed === undefined || from === to || to === 'errors.js' || to === 'polyfill.js') continue
      if (!allowed.includes(to)) problems.push(`${imp.from} imports ${imp.target}`)
      else if (TYPE_ONLY[from]?.includes(to) === true && !imp.typeOnly) problems.push(`${imp.from} imports ${imp.target} (types only allowed)`)
    }
    expect(problems).toEqual([])
  })

  it('only the entry points import the composition root', async () => {
    const importers = (await imports()).filter(i => i.target === 'node.js').map(i => i.from)
    expect(importers.filter(f => !ENTRY_POINTS.has(f))).toEqual([])
  })

  it('only node.ts reaches into every folder', async () => {
    const reach = new Map<string, Set<string>>()
    for (const imp of await imports()) {
      const set = reach.get(imp.from) ?? new Set<string>()
      set.add(folderOf(imp.target))
      reach.set(imp.from, set)
    }
    const everywhere = [...reach].filter(([, folders]) => ['events', 'signing', 'store', 'p2p', 'delivery', 'api'].every(f => folders.has(f))).map(([file]) => file)
    expect(everywhere).toEqual(['node.ts'])
  })
})
