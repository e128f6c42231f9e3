import { describe, expect, it } from 'vitest'
import { SOURCE_KINDS, SOURCE_KIND_NAMES, sourceKind, validateSourceInput } from '../../src/hooks/index.js'

describe('hooks: the kind registry', () => {
  it('has every kind the contract names, each under its own name', () => {
    for (const name of SOURCE_KIND_NAMES) expect(sourceKind(name)?.name, name).toBe(name)
    expect(Object.keys(SOURCE_KINDS).sort()).toEqual([...SOURCE_KIND_NAMES].sort())
    expect(sourceKind('toString')).toBeUndefined()
  })

  it('a source entry is validated with its kind\'s own settings, naming the field', () => {
    expect(validateSourceInput({ name: 'gh', kind: 'github', secretEnv: 'GH_SECRET' })).toEqual({ name: 'gh', kind: 'github', secretEnv: 'GH_SECRET' })
    expect(() => validateSourceInput({ name: 'gh', kind: 'github', secretEnv: 'GH_SECRET', settings: { url: 'x' } })).toThrow(expect.objectContaining({ details: { field: 'settings.url' } }))
    expect(() => validateSourceInput({ name: 'h', kind: 'harbor', secretFile: '/s' })).toThrow(expect.objectContaining({ details: { field: 'settings.url' } }))
  })
})
