/**
 * Listing by prefix as a range of the name index: the names that start with `prefix` are
 * exactly those `>= prefix` and `< prefixEnd(prefix)` in SQLite's BINARY order (UTF-8 bytes,
 * which is code point order). No `LIKE`, so `%` and `_` in names are plain characters.
 *
 * @module
 */

/**
 * The least string greater than every string that starts with `prefix`, or `null` if there is
 * none (`""`, or only U+10FFFF characters): `prefix` with its last code point raised by one
 * (skipping the surrogate range, which UTF-8 cannot hold), after dropping trailing U+10FFFF.
 * `prefix` must be well-formed UTF-16 (`TypeError` otherwise).
 */
export function prefixEnd(prefix: string): string | null {
  if (!prefix.isWellFormed()) throw new TypeError(`list prefix "${prefix}" is not valid text`);
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      return points.join("") + String.fromCodePoint(last + 1 === 0xd800 ? 0xe000 : last + 1);
    }
  }
  return null;
}
