/**
 * Gitignore-style exclude patterns, matched with picomatch (docs/plugins.md §6).
 *
 * Semantics (those of a `.gitignore` at the backup source root):
 * - Empty entries and entries starting with `#` are ignored; `\#` and `\!` escape a leading
 *   `#` or `!`; trailing spaces are dropped unless escaped with `\`.
 * - `!pattern` re-includes what an earlier pattern excluded; the last matching pattern wins.
 * - A trailing `/` makes a pattern match directories only.
 * - A pattern with no other `/` matches the base name at any depth; with a `/` (leading or
 *   inside) it matches the whole path relative to the source root (a leading `/` is dropped).
 * - `*` and `?` never match `/`; `[...]` is a class (`[!...]` negated); `**` matches any
 *   number of folders in `**` + `/`, `/` + `**` + `/` and a trailing `/` + `**` (the latter
 *   only what is inside the folder, not the folder itself); any other `**` is `*`.
 *   `*` matches dot files. Other characters are literal: no braces, no extglobs.
 * - A path inside an excluded directory is excluded, and cannot be re-included.
 *
 * @module
 */

import picomatch from "picomatch";

interface Rule {
  source: string;
  negate: boolean;
  dirOnly: boolean;
  /** Tests the base name (no `/` in the pattern) or the whole relative path. */
  baseName: boolean;
  test(path: string): boolean;
}

const PM_OPTIONS = { dot: true, nobrace: true, noextglob: true, nonegate: true };

/**
 * A compiled pattern list. Contract: `excluded(path, isDir)` is pure and takes a path
 * relative to the source root, `/`-separated (a leading `./` or `/` and a trailing `/` are
 * ignored). The constructor throws `TypeError` naming a pattern it cannot compile.
 */
export class ExcludeMatcher {
  #rules: Rule[];

  constructor(patterns: readonly string[]) {
    this.#rules = patterns.flatMap((p) => {
      const rule = compile(p);
      return rule ? [rule] : [];
    });
  }

  /** Number of effective (non-empty, non-comment) patterns. */
  get size(): number {
    return this.#rules.length;
  }

  /**
   * Whether `path` is excluded. `dirCache`, if given, memoises results for ancestor folders
   * across calls that share it (one walk).
   */
  excluded(path: string, isDir: boolean, dirCache?: Map<string, boolean>): boolean {
    const p = normalize(path);
    if (p === "" || this.#rules.length === 0) return false;
    let cut = p.indexOf("/");
    while (cut >= 0) {
      const ancestor = p.slice(0, cut);
      let hit = dirCache?.get(ancestor);
      if (hit === undefined) {
        hit = this.#own(ancestor, true);
        dirCache?.set(ancestor, hit);
      }
      if (hit) return true;
      cut = p.indexOf("/", cut + 1);
    }
    return this.#own(p, isDir);
  }

  /** The verdict of the rules on `path` alone, ignoring its ancestors. */
  #own(path: string, isDir: boolean): boolean {
    const base = path.slice(path.lastIndexOf("/") + 1);
    for (let i = this.#rules.length - 1; i >= 0; i--) {
      const r = this.#rules[i];
      if (r.dirOnly && !isDir) continue;
      if (r.test(r.baseName ? base : path)) return !r.negate;
    }
    return false;
  }
}

function normalize(path: string): string {
  let p = path;
  while (p.startsWith("./")) p = p.slice(2);
  return p.replace(/^\/+/, "").replace(/\/+$/, "");
}

/** Compiles one gitignore line, or returns `undefined` for a blank line or a comment. */
function compile(source: string): Rule | undefined {
  if (typeof source !== "string") throw new TypeError(`exclude pattern "${source}" is no string`);
  let p = source.replace(/(?<!\\)\s+$/, "");
  if (p === "" || p.startsWith("#")) return undefined;
  let negate = false;
  if (p.startsWith("!")) {
    negate = true;
    p = p.slice(1);
  }
  let dirOnly = false;
  if (p.endsWith("/") && !p.endsWith("\\/")) {
    dirOnly = true;
    p = p.replace(/\/+$/, "");
  }
  const baseName = !p.includes("/");
  p = p.replace(/^\/+/, "");
  if (p === "") throw new TypeError(`exclude pattern "${source}" matches nothing`);
  const insideOnly = !baseName && p.endsWith("/**");
  let test: (path: string) => boolean;
  try {
    const glob = picomatch(toPicomatch(p), PM_OPTIONS);
    if (insideOnly) {
      const folder = picomatch(toPicomatch(p.slice(0, -3)), PM_OPTIONS);
      test = (path) => glob(path) && !folder(path);
    } else {
      test = glob;
    }
  } catch (e) {
    throw new TypeError(`exclude pattern "${source}" is not valid: ${(e as Error).message}`);
  }
  return { source, negate, dirOnly, baseName, test };
}

/**
 * Rewrites a gitignore glob for picomatch: escapes every character picomatch would read as
 * syntax gitignore does not have (parentheses, braces, `|`, `+`, `@`, `!`, ...), turns `[!`
 * into `[^`, and keeps `*`, `?`, `/`, classes and backslash escapes.
 */
function toPicomatch(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "\\") {
      out += i + 1 < glob.length ? "\\" + glob[++i] : "\\\\";
    } else if (c === "[") {
      const end = classEnd(glob, i);
      if (end < 0) {
        out += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, end);
      if (body.startsWith("!")) body = "^" + body.slice(1);
      out += `[${body}]`;
      i = end;
    } else if (c === "*" || c === "?" || c === "/" || /[A-Za-z0-9_-]/.test(c) || c > "~") {
      out += c;
    } else {
      out += "\\" + c;
    }
  }
  return out;
}

/** Index of the `]` closing the class opened at `start`, or -1 if it is not closed. */
function classEnd(glob: string, start: number): number {
  let j = start + 1;
  if (glob[j] === "!" || glob[j] === "^") j++;
  if (glob[j] === "]") j++;
  for (; j < glob.length; j++) {
    if (glob[j] === "\\") j++;
    else if (glob[j] === "]") return j;
  }
  return -1;
}
