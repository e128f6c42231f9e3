/**
 * Communities' colours: a hash of the name (or of the origin's peer ID when it has no trust name)
 * picks one of a few colours that stay apart for people with the common colour-vision
 * deficiencies (the Okabe–Ito set and four more), so a community keeps its colour from page to
 * page; when two names on one page pick the same colour, the later name in sort order takes the
 * next free one.
 */
const PALETTE = [
  '#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#8c6bb1', '#66a61e', '#a6761d'
] as const

/** FNV-1a: tiny, and spreads short names evenly enough over a small palette. */
function hash (text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** The colour of each name, distinct while there are no more names than colours. */
export function communityColours (names: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>()
  const taken = new Set<number>()
  for (const name of [...new Set(names)].sort()) {
    let slot = hash(name) % PALETTE.length
    for (let tries = 0; tries < PALETTE.length && taken.has(slot); tries++) slot = (slot + 1) % PALETTE.length
    taken.add(slot)
    out.set(name, PALETTE[slot] as string)
  }
  return out
}
