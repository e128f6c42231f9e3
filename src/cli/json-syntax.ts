/**
 * Where a JSON text first breaks the grammar, and why, with the same answer on every Node
 * version: JSON.parse's messages differ between V8 releases, and some name no position at all
 * (`Unexpected token 'x', "…" is not valid JSON`). Used after JSON.parse has failed, to point a
 * user at the line and column of a hand-edited file.
 */

export interface JsonSyntaxProblem {
  /** UTF-16 offset into the text */
  offset: number
  message: string
}

export interface TextPosition {
  /** from 1 */
  line: number
  /** from 1, in characters of that line */
  column: number
}

const END = 'Unexpected end of JSON input'

/** The first syntax error of `text` as a single JSON value; undefined when it is valid JSON. */
export function findJsonSyntaxError (text: string): JsonSyntaxProblem | undefined {
  const n = text.length
  let i = 0
  // open containers; iterative so that deep nesting cannot overflow the call stack
  const stack: Array<'{' | '['> = []

  const skipSpace = (): void => {
    for (; i < n; i++) {
      const c = text.charCodeAt(i)
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return
    }
  }
  const problem = (message: string): JsonSyntaxProblem => ({ offset: Math.min(i, n), message: i >= n ? END : message })
  const unexpected = (): JsonSyntaxProblem => problem(`Unexpected token ${JSON.stringify(text[i] ?? '')}`)

  const string = (): JsonSyntaxProblem | undefined => {
    i++ // the opening quote
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c === 0x22) { i++; return undefined }
      if (c < 0x20) return problem('Bad control character in string literal')
      if (c === 0x5c) {
        const e = text[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) { i += 2; return problem('Bad Unicode escape in string') }
          i += 6
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2
        } else {
          i++
          return problem('Bad escaped character in string')
        }
        continue
      }
      i++
    }
    return { offset: n, message: 'Unterminated string in JSON' }
  }

  const digits = (): number => {
    const start = i
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++
    return i - start
  }

  const number = (): JsonSyntaxProblem | undefined => {
    if (text[i] === '-') i++
    if (text[i] === '0') i++
    else if (digits() === 0) return problem('No number after minus sign')
    if (text[i] === '.') {
      i++
      if (digits() === 0) return problem('Unterminated fractional number')
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++
      if (text[i] === '+' || text[i] === '-') i++
      if (digits() === 0) return problem('Exponent part is missing a number')
    }
    return undefined
  }

  const scalar = (): JsonSyntaxProblem | undefined => {
    const c = text[i]
    if (c === '"') return string()
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number()
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) { i += word.length; return undefined }
    }
    return unexpected()
  }

  /** An object member's name and colon, the cursor on the name's quote (after whitespace). */
  const memberName = (afterComma: boolean): JsonSyntaxProblem | undefined => {
    if (text[i] !== '"') return problem(afterComma ? 'Expected double-quoted property name' : 'Expected property name or \'}\'')
    const bad = string()
    if (bad !== undefined) return bad
    skipSpace()
    if (text[i] !== ':') return problem('Expected \':\' after property name')
    i++
    return undefined
  }

  for (;;) {
    // a value starts here
    skipSpace()
    if (i >= n) return problem(END)
    const c = text[i]
    if (c === '{' || c === '[') {
      i++
      skipSpace()
      if (text[i] === (c === '{' ? '}' : ']')) {
        i++
      } else {
        stack.push(c)
        if (c === '{') {
          const bad = memberName(false)
          if (bad !== undefined) return bad
        }
        continue
      }
    } else {
      const bad = scalar()
      if (bad !== undefined) return bad
    }
    // a value ended: close containers until one wants another value
    for (;;) {
      skipSpace()
      const top = stack[stack.length - 1]
      if (top === undefined) return i < n ? problem('Unexpected non-whitespace character after JSON') : undefined
      if (i >= n) return problem(END)
      if (text[i] === ',') {
        i++
        if (top === '{') {
          skipSpace()
          const bad = memberName(true)
          if (bad !== undefined) return bad
        }
        break
      }
      if (text[i] === (top === '{' ? '}' : ']')) {
        i++
        stack.pop()
        continue
      }
      return problem(top === '{' ? 'Expected \',\' or \'}\' after property value' : 'Expected \',\' or \']\' after array element')
    }
  }
}

/** Line and column (from 1) of a UTF-16 offset; `\r\n` and `\n` end lines. */
export function positionOf (text: string, offset: number): TextPosition {
  let line = 1
  let lineStart = 0
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) {
    line++
    lineStart = at + 1
  }
  return { line, column: offset - lineStart + 1 }
}
