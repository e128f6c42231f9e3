import { describe, expect, it } from 'vitest'
import { parseJsonDocuments } from '../../src/cli/client.js'
import { findJsonSyntaxError, positionOf } from '../../src/cli/json-syntax.js'

/** Where and why, as `line:column: message`. */
function locate (text: string): string | undefined {
  const problem = findJsonSyntaxError(text)
  if (problem === undefined) return undefined
  const { line, column } = positionOf(text, problem.offset)
  return `${line}:${column}: ${problem.message}`
}

describe('findJsonSyntaxError', () => {
  it.each([
    ['{\n  "a": 1,\n  "b": 2\n  "c": 3\n}', "4:3: Expected ',' or '}' after property value"],
    ['[\n  1,\n  2\n  3\n]', "4:3: Expected ',' or ']' after array element"],
    ['{\r\n  "a": tru\r\n}', '2:8: Unexpected token "t"'],
    ['{"a" 1}', "1:6: Expected ':' after property name"],
    ['{"a": 1,}', '1:9: Expected double-quoted property name'],
    ['{,}', "1:2: Expected property name or '}'"],
    ['{"a": "x\ty"}', '1:9: Bad control character in string literal'],
    ['"\\q"', '1:3: Bad escaped character in string'],
    ['"\\u12G4"', '1:4: Bad Unicode escape in string'],
    ['{"a": "open', '1:12: Unterminated string in JSON'],
    ['[-]', '1:3: No number after minus sign'],
    ['[1.]', '1:4: Unterminated fractional number'],
    ['[1e+]', '1:5: Exponent part is missing a number'],
    ['{"a": 1}\n{"b": 2}', '2:1: Unexpected non-whitespace character after JSON'],
    ['{\n  "a": [1, 2\n', '3:1: Unexpected end of JSON input'],
    ['', '1:1: Unexpected end of JSON input']
  ])('%j → %s', (text, expected) => {
    expect(locate(text)).toBe(expected)
  })

  it('agrees with JSON.parse on what is valid (mutations of a real event)', () => {
    const base = JSON.stringify({ context: { id: 'a-1', n: -1.5e3, ok: true, none: null, list: [1, 'x\\"y', { u: '\u00e9' }] } }, null, 2)
    const alphabet = ['', '{', '}', '[', ']', ',', ':', '"', '\\', '-', '0', '1', 'e', '.', 't', 'n', ' ', '\n', '\t', 'x']
    let seed = 7
    const random = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
    for (let round = 0; round < 3000; round++) {
      const at = random(base.length)
      const text = base.slice(0, at) + (alphabet[random(alphabet.length)] as string) + base.slice(at + random(3))
      let valid = true
      try {
        JSON.parse(text)
      } catch {
        valid = false
      }
      expect(findJsonSyntaxError(text) === undefined, text).toBe(valid)
    }
  })

  it('handles nesting deeper than the call stack would', () => {
    expect(findJsonSyntaxError('['.repeat(100_000) + ']'.repeat(100_000))).toBeUndefined()
    expect(findJsonSyntaxError('['.repeat(100_000))?.message).toBe('Unexpected end of JSON input')
  })
})

describe('parseJsonDocuments', () => {
  it('takes one value, an array, or JSON lines (with a byte-order mark, CRLF and blank lines)', () => {
    expect(parseJsonDocuments('{"a": 1}')).toEqual([{ a: 1 }])
    expect(parseJsonDocuments('[\n  {"a": 1},\n  {"a": 2}\n]\n')).toEqual([{ a: 1 }, { a: 2 }])
    expect(parseJsonDocuments('\uFEFF{"a": 1}\r\n\r\n{"a": 2}\r\n')).toEqual([{ a: 1 }, { a: 2 }])
    expect(parseJsonDocuments('  \n')).toEqual([])
  })

  it('names the file, line and column of a syntax error, pretty-printed or JSON lines', () => {
    expect(() => parseJsonDocuments('{\n  "a": 1\n  "b": 2\n}', 'events.json')).toThrow("events.json:3:3: Expected ',' or '}' after property value")
    expect(() => parseJsonDocuments('{"a": 1}\n{"a": 2}\n\n{"a" 3}\n', 'e.jsonl')).toThrow("e.jsonl:4:6: Expected ':' after property name")
  })
})
