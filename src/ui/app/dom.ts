/**
 * Building DOM from data: every text goes in through textContent, never innerHTML, so nothing a
 * peer signed or a user typed can become markup.
 */
export type Child = Node | string | undefined

export function el<K extends keyof HTMLElementTagNameMap> (tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value)
  for (const child of children) {
    if (child === undefined) continue
    element.append(typeof child === 'string' ? document.createTextNode(child) : child)
  }
  return element
}

export function link (hash: string, text: string): HTMLAnchorElement {
  return el('a', { href: hash }, text)
}

/** A message in place of a view's content: loading, empty, or an error (with its CDG code). */
export function notice (text: string, kind: 'info' | 'error' = 'info'): HTMLParagraphElement {
  return el('p', { class: `notice ${kind}` }, text)
}

export function errorText (err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message
  }
  return String(err)
}

/** A two-column table of label → value rows. */
export function facts (rows: Array<[string, Child]>): HTMLTableElement {
  return el('table', { class: 'facts' }, ...rows.map(([label, value]) => el('tr', {}, el('th', {}, label), el('td', {}, value))))
}

/** A table with a header row. */
export function table (head: string[], rows: Child[][]): HTMLTableElement {
  return el('table', { class: 'list' },
    el('thead', {}, el('tr', {}, ...head.map(h => el('th', {}, h)))),
    el('tbody', {}, ...rows.map(cells => el('tr', {}, ...cells.map(c => el('td', {}, c))))))
}
