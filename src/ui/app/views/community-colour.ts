/**
 * A community's colour, the same on every page and every graph: a hash of its name (or of the
 * origin's peer ID when it has no trust name) picks one of a few colours that stay apart for
 * people with the common colour-vision deficiencies (the Okabe–Ito set, plus greys' neighbours).
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

export function communityColour (community: string): string {
  return PALETTE[hash(community) % PALETTE.length] as string
}
