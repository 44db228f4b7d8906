/**
 * The order of names in a tree (docs/format.md §8): by their UTF-8 bytes. Host and engines use
 * this one function, so a tree an engine sorts is the tree the host validates.
 *
 * @module
 */

/**
 * Orders two names by their UTF-8 bytes, which for well-formed strings is code point order (not
 * JavaScript's UTF-16 order: "\u{1F600}" sorts after "\uFFFD"). Sort nodes with it before they
 * are encoded.
 */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}
