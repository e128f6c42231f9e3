/**
 * Building the page's elements from text that came over the network: text goes in through
 * textContent only and attributes through setAttribute, never through HTML parsing, so a field of
 * a CDEvent cannot become markup.
 */
type Child = Node | string | undefined

export function el<K extends keyof HTMLElementTagNameMap> (tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) e.setAttribute(name, value)
  for (const child of children) {
    if (child === undefined) continue
    e.append(typeof child === 'string' ? document.createTextNode(child) : child)
  }
  return e
}

/** A link to another view of the page, by its hash route. */
export function routeLink (path: string, text: string): HTMLAnchorElement {
  return el('a', { href: `#${path}` }, text)
}
