/**
 * Git's glob matching ("wildmatch"), on bytes, as `.gitignore` patterns use it
 * (docs/plugins.md §6.5). Written from git's documented and observed behaviour (gitignore(5),
 * git 2.39), and checked against git itself by `git_oracle_test.ts`.
 *
 * - `?` matches one byte, `*` any run of bytes, neither a `/` in path mode.
 * - `**` matches across `/` (in path mode) only where it is a whole segment: at the start or
 *   after a `/`, and at the end or before a `/`; `**` + `/` may also match nothing. Elsewhere
 *   it is a `*`.
 * - `[...]` is a byte class: `!` or `^` first negates, `]` first is a member, `a-z` a range
 *   (bytes), `\` escapes, `[:alpha:]` and the other POSIX names (ASCII). In path mode a class
 *   never matches `/`. An unclosed `[` (or an unknown `[:name:]`) makes the whole match fail.
 * - `\` makes the next byte literal; a pattern ending in a lone `\` matches nothing.
 *
 * @module
 */

/** Outcome of one attempt; the two aborts stop callers from trying longer `*` expansions. */
const enum Result {
  Match,
  NoMatch,
  /** The text ran out (or the pattern is malformed): no expansion of an outer `*` can help. */
  AbortAll,
  /** A single `*` met a `/`: only an outer `**` may still try further. */
  AbortToDoubleStar,
}

const SLASH = 0x2f;
const STAR = 0x2a;
const QUESTION = 0x3f;
const BACKSLASH = 0x5c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BANG = 0x21;
const CARET = 0x5e;
const DASH = 0x2d;
const COLON = 0x3a;

/**
 * Whether `text` matches `pattern`. In `pathname` mode (`.gitignore` patterns that contain a
 * `/`), wildcards do not match `/` except `**` as described above; without it (patterns matched
 * against a base name) every wildcard matches any byte.
 */
export function wildmatch(pattern: Uint8Array, text: Uint8Array, pathname: boolean): boolean {
  return new Matcher(pattern, text, pathname).run(0, 0) === Result.Match;
}

/** Whether `byte` is one of the bytes that make a pattern a glob: `*`, `?`, `[`, `\`. */
export function isGlobSpecial(byte: number): boolean {
  return byte === STAR || byte === QUESTION || byte === OPEN || byte === BACKSLASH;
}

class Matcher {
  constructor(
    private p: Uint8Array,
    private t: Uint8Array,
    private pathname: boolean,
  ) {}

  /** The pattern byte at `i`, 0 past the end (as a C string would give). */
  #pat(i: number): number {
    return i < this.p.length ? this.p[i] : 0;
  }

  /** Matches the pattern from `pi` against the text from `ti`. */
  run(pi: number, ti: number): Result {
    const { p, t } = this;
    for (; pi < p.length; pi++, ti++) {
      const pc = p[pi];
      if (ti >= t.length && pc !== STAR) return Result.AbortAll;
      const tc = ti < t.length ? t[ti] : 0;
      if (pc === STAR) return this.#star(pi, ti);
      if (pc === QUESTION) {
        if (this.pathname && tc === SLASH) return Result.NoMatch;
      } else if (pc === OPEN) {
        const end = this.#klass(pi + 1, tc);
        if (end < 0) return end === -1 ? Result.AbortAll : Result.NoMatch;
        pi = end;
      } else {
        // A backslash makes the next byte literal; a lone one at the end matches no byte.
        const literal = pc === BACKSLASH ? this.#pat(++pi) : pc;
        if (tc !== literal) return Result.NoMatch;
      }
    }
    return ti < t.length ? Result.NoMatch : Result.Match;
  }

  /** A run of `*` at `pi`, the text at `ti`: tries each expansion, shortest first. */
  #star(pi: number, ti: number): Result {
    const { p, t } = this;
    const first = pi;
    while (pi < p.length && p[pi] === STAR) pi++;
    let crossesSlash = !this.pathname;
    if (pi - first >= 2 && this.pathname) {
      const before = first === 0 || p[first - 1] === SLASH;
      const after = pi === p.length || p[pi] === SLASH ||
        (p[pi] === BACKSLASH && this.#pat(pi + 1) === SLASH);
      if (before && after) {
        // `**/` may match no folder at all: try the rest right here, without the slash.
        if (p[pi] === SLASH && this.run(pi + 1, ti) === Result.Match) return Result.Match;
        crossesSlash = true;
      }
    }
    if (pi === p.length) {
      // A trailing `*` matches the rest of a segment, a trailing `**` the rest of the path.
      if (!crossesSlash && t.indexOf(SLASH, ti) >= 0) return Result.NoMatch;
      return Result.Match;
    }
    if (!crossesSlash && p[pi] === SLASH) {
      // `*/`: the star takes exactly the rest of this segment.
      const slash = t.indexOf(SLASH, ti);
      if (slash < 0) return Result.NoMatch;
      return this.run(pi, slash);
    }
    for (; ti < t.length; ti++) {
      const r = this.run(pi, ti);
      if (r !== Result.NoMatch) {
        if (!crossesSlash || r !== Result.AbortToDoubleStar) return r;
      } else if (!crossesSlash && t[ti] === SLASH) {
        return Result.AbortToDoubleStar;
      }
    }
    return Result.AbortAll;
  }

  /**
   * Matches text byte `tc` against the class whose body starts at `pi` (after the `[`).
   * Returns the index of the closing `]` when it matches, -2 when it does not, and -1 when the
   * class is malformed (unclosed, or an unknown `[:name:]`).
   */
  #klass(pi: number, tc: number): number {
    let pc = this.#pat(pi);
    const negated = pc === BANG || pc === CARET;
    if (negated) pc = this.#pat(++pi);
    let prev = 0;
    let matched = false;
    do {
      if (pc === 0) return -1;
      if (pc === BACKSLASH) {
        pc = this.#pat(++pi);
        if (pc === 0) return -1;
        if (tc === pc) matched = true;
      } else if (
        pc === DASH && prev !== 0 && this.#pat(pi + 1) !== 0 && this.#pat(pi + 1) !== CLOSE
      ) {
        pc = this.#pat(++pi);
        if (pc === BACKSLASH) {
          pc = this.#pat(++pi);
          if (pc === 0) return -1;
        }
        if (tc >= prev && tc <= pc) matched = true;
        pc = 0; // a range cannot start another range
      } else if (pc === OPEN && this.#pat(pi + 1) === COLON) {
        const named = this.#named(pi, tc);
        if (named === undefined) {
          // Not `[:name:]` after all: the `[` is an ordinary member.
          if (tc === OPEN) matched = true;
        } else {
          if (named.end < 0) return -1;
          if (named.matched) matched = true;
          pi = named.end;
          pc = 0;
        }
      } else if (tc === pc) {
        matched = true;
      }
      prev = pc;
      pc = this.#pat(++pi);
    } while (pc !== CLOSE);
    if (matched === negated || (this.pathname && tc === SLASH)) return -2;
    return pi;
  }

  /**
   * A `[:name:]` at `pi` (its `[`): `undefined` when the text up to the next `]` does not end
   * in `:`, so it is no named class; `end` -1 when no `]` follows or the name is unknown;
   * otherwise the index of its `]` and whether `tc` is in the class.
   */
  #named(pi: number, tc: number): { end: number; matched: boolean } | undefined {
    const start = pi + 2;
    let end = start;
    while (this.#pat(end) !== 0 && this.#pat(end) !== CLOSE) end++;
    if (this.#pat(end) === 0) return { end: -1, matched: false };
    if (end - start - 1 < 0 || this.#pat(end - 1) !== COLON) return undefined;
    const name = String.fromCharCode(...this.p.subarray(start, end - 1));
    const test = POSIX_CLASSES[name];
    if (test === undefined) return { end: -1, matched: false };
    return { end, matched: test(tc) };
  }
}

const between = (c: number, lo: string, hi: string) =>
  c >= lo.charCodeAt(0) && c <= hi.charCodeAt(0);
const isUpper = (c: number) => between(c, "A", "Z");
const isLower = (c: number) => between(c, "a", "z");
const isDigit = (c: number) => between(c, "0", "9");
const isAlpha = (c: number) => isUpper(c) || isLower(c);
const isGraph = (c: number) => c > 0x20 && c < 0x7f;

/** The POSIX classes git knows, with git's own locale-independent ASCII ctype. */
const POSIX_CLASSES: Record<string, (c: number) => boolean> = {
  alnum: (c) => isAlpha(c) || isDigit(c),
  alpha: isAlpha,
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: isDigit,
  graph: isGraph,
  lower: isLower,
  print: (c) => c >= 0x20 && c < 0x7f,
  punct: (c) => isGraph(c) && !isAlpha(c) && !isDigit(c),
  space: (c) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d, // git's own ctype
  upper: isUpper,
  xdigit: (c) => isDigit(c) || between(c, "a", "f") || between(c, "A", "F"),
};
