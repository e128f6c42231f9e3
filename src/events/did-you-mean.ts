/**
 * Suggestions for near misses ("did you mean …?"): one edit distance and one closeness rule for
 * every message that guesses what a user meant (configuration keys, class patterns, subjects).
 */

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbours each cost 1, so `sourecs` is one step from `sources`.
 */
export function editDistance (a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i === 0 ? j : j === 0 ? i : 0))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const row = d[i] as number[]
      const prev = d[i - 1] as number[]
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1)
    }
  }
  return (d[a.length] as number[])[b.length] as number
}

/** Longest input compared at all: a guess for a 200-character key helps nobody, and the table is quadratic. */
const MAX_GUESS_INPUT = 64
/**
 * A guess may be at most 1/3 of the candidate's length away: `class` → `classes` (2 of 7) and
 * `levle` → `level` (1 of 5) are typos, while `host` for `port` (2 of 4) would be a wild guess.
 */
const GUESS_MAX_DISTANCE_SHARE = 3

/**
 * The candidate `input` most likely meant, or undefined when none is close: at most a third of
 * the candidate's length away (at least one edit), case ignored, so `class` finds `classes` and
 * `levle` finds `level` but `foo` finds nothing.
 */
export function closest (input: string, candidates: readonly string[]): string | undefined {
  if (input.length === 0 || input.length > MAX_GUESS_INPUT) return undefined
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const distance = editDistance(input.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance && distance <= Math.max(1, Math.floor(candidate.length / GUESS_MAX_DISTANCE_SHARE))) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}
