/**
 * "Did you mean": the known word a mistyped one is likely a misspelling of, for commands and
 * options (`host/cli/options.ts`) and the keys of the configuration file (`host/config/`).
 * Pure functions, no imports.
 *
 * @module
 */

/**
 * The one of `candidates` closest to `word`, a likely misspelling of it ("bakup" for "backup",
 * "dryrun" for "dry-run"), or undefined when none is close: at most one edit away for a word of
 * up to four letters, two for a longer one (a letter added, left out, changed or two swapped).
 * A tie between two candidates suggests neither.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const most = word.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = Infinity;
  let tie = false;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d > most || d > bestDistance) continue;
    tie = d === bestDistance;
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return tie ? undefined : best;
}

/** The optimal-string-alignment distance: insertions, deletions, changes and swaps of two. */
export function editDistance(a: string, b: string): number {
  const d = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** `message` with "; did you mean X?" when one of `candidates` is close to `word`. */
export function withSuggestion(
  message: string,
  word: string | undefined,
  candidates: Iterable<string>,
  show: (near: string) => string = (near) => `"${near}"`,
): string {
  const near = word === undefined ? undefined : closest(word, candidates);
  return near === undefined ? message : `${message}; did you mean ${show(near)}?`;
}
