/**
 * One ignore file (a `.gitignore`, or a work tree's `info/exclude`) parsed into rules, and the
 * rule that decides a path, as git does it (gitignore(5), git 2.39; docs/plugins.md §6.5).
 * Everything is bytes: patterns and paths are compared as git compares them, byte by byte,
 * case-sensitively.
 *
 * Parsing, per line (lines end at `\n`; a `\r` before it is dropped; a UTF-8 byte order mark at
 * the start of the file is skipped): a line that is empty or starts with `#` is no rule;
 * trailing spaces (not tabs) are dropped unless escaped with `\`; a leading `!` negates; one
 * trailing `/` makes the rule match directories only; a rule with no other `/` matches a base
 * name at any depth, one with a `/` at the start or in the middle matches the path relative to
 * the file's folder.
 *
 * @module
 */

import { isGlobSpecial, wildmatch } from "./wildmatch.ts";

const SLASH = 0x2f;
const BANG = 0x21;
const HASH = 0x23;
const SPACE = 0x20;
const BACKSLASH = 0x5c;
const STAR = 0x2a;
const CR = 0x0d;
const LF = 0x0a;

/** One rule of an ignore file. */
export interface IgnoreRule {
  /** The pattern without its `!` and its trailing `/`. */
  pattern: Uint8Array;
  /** `!`: a match re-includes. */
  negative: boolean;
  /** A trailing `/`: the rule matches only directories. */
  dirOnly: boolean;
  /** No `/` in `pattern`: it is matched against the base name. */
  baseName: boolean;
  /** Length of the pattern's leading run without `*`, `?`, `[`, `\` (compared as is). */
  literal: number;
  /** `*` followed by no other wildcard: a base name matches if it ends with the rest. */
  endsWith: boolean;
  /** 1-based line number in its file, for messages and tests. */
  line: number;
}

const encoder = new TextEncoder();

/**
 * The rules of one ignore file, and the folder they apply to.
 *
 * Contract: `lastMatch` is pure. Paths are `/`-separated bytes relative to the top of the work
 * tree, without a leading or trailing `/`; `base` is the folder of the file relative to that top
 * (`""` for the top, and for `info/exclude`).
 */
export class IgnoreRules {
  readonly rules: IgnoreRule[];
  readonly base: Uint8Array;
  /** Bytes the rules hold (for the matcher's memory bound). */
  readonly size: number;

  /**
   * Parses `content` (the file's bytes) for the folder `base` (relative to the top); `source`
   * names the file in messages.
   */
  constructor(content: Uint8Array, base: string, readonly source: string) {
    this.base = encoder.encode(base);
    this.rules = parseRules(content);
    this.size = this.rules.reduce((n, r) => n + r.pattern.length + 64, 64);
  }

  /**
   * The last rule that matches `path` (a directory when `isDir`), which decides it; `undefined`
   * if none does. `path` must lie inside `base`.
   */
  lastMatch(path: Uint8Array, isDir: boolean): IgnoreRule | undefined {
    const name = path.subarray(path.lastIndexOf(SLASH) + 1);
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const rule = this.rules[i];
      if (rule.dirOnly && !isDir) continue;
      const hit = rule.baseName ? matchBaseName(rule, name) : this.#matchPath(rule, path);
      if (hit) return rule;
    }
    return undefined;
  }

  /** A rule with a `/`, against the path relative to this file's folder. */
  #matchPath(rule: IgnoreRule, path: Uint8Array): boolean {
    let pattern = rule.pattern;
    let literal = rule.literal;
    if (pattern[0] === SLASH) {
      pattern = pattern.subarray(1);
      literal--;
    }
    const base = this.base;
    let name = path;
    if (base.length > 0) {
      if (path.length < base.length + 1 || path[base.length] !== SLASH) return false;
      if (!startsWith(path, base)) return false;
      name = path.subarray(base.length + 1);
    }
    if (literal > 0) {
      // Git compares the literal head as is and globs only the rest: so a `**` right after
      // that head counts as being at the start of the pattern (`ab**/c` matches `abx/y/c`).
      if (literal > name.length || !startsWith(name, pattern.subarray(0, literal))) return false;
      pattern = pattern.subarray(literal);
      name = name.subarray(literal);
      if (pattern.length === 0 && name.length === 0) return true;
    }
    return wildmatch(pattern, name, true);
  }
}

/** A rule without `/`, against a base name. */
function matchBaseName(rule: IgnoreRule, name: Uint8Array): boolean {
  const { pattern, literal } = rule;
  if (literal === pattern.length) return equal(pattern, name);
  if (rule.endsWith) {
    const tail = pattern.length - 1;
    return tail <= name.length && equal(pattern.subarray(1), name.subarray(name.length - tail));
  }
  return wildmatch(pattern, name, false);
}

/** The rules of a file's bytes, in file order. */
function parseRules(content: Uint8Array): IgnoreRule[] {
  let start = 0;
  if (content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf) start = 3;
  const rules: IgnoreRule[] = [];
  let line = 0;
  while (start <= content.length) {
    line++;
    let end = content.indexOf(LF, start);
    if (end < 0) end = content.length;
    if (end > start && content[start] !== HASH) {
      const stop = end > 0 && content[end - 1] === CR ? end - 1 : end;
      let text = content.subarray(start, stop);
      const nul = text.indexOf(0);
      if (nul >= 0) text = text.subarray(0, nul); // git reads each line as a C string
      const rule = parseRule(trimTrailingSpaces(text), line);
      if (rule) rules.push(rule);
    }
    start = end + 1;
  }
  return rules;
}

/** One line (without its end) as a rule, or `undefined` when it can match nothing. */
function parseRule(text: Uint8Array, line: number): IgnoreRule | undefined {
  let p = text;
  const negative = p[0] === BANG;
  if (negative) p = p.subarray(1);
  const dirOnly = p.length > 0 && p[p.length - 1] === SLASH;
  if (dirOnly) p = p.subarray(0, p.length - 1);
  if (p.length === 0) return undefined; // "", "!", "/": git keeps them, and they match nothing
  let literal = 0;
  while (literal < p.length && !isGlobSpecial(p[literal])) literal++;
  let rest = 1;
  while (rest < p.length && !isGlobSpecial(p[rest])) rest++;
  return {
    pattern: p.slice(),
    negative,
    dirOnly,
    baseName: !p.includes(SLASH),
    literal,
    endsWith: p[0] === STAR && rest === p.length,
    line,
  };
}

/**
 * Drops trailing spaces, except those escaped with `\` (and none at all when the line ends in a
 * lone `\`), as git does.
 */
function trimTrailingSpaces(text: Uint8Array): Uint8Array {
  let lastSpace = -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === SPACE) {
      if (lastSpace < 0) lastSpace = i;
    } else if (text[i] === BACKSLASH) {
      i++;
      if (i >= text.length) return text;
      lastSpace = -1;
    } else {
      lastSpace = -1;
    }
  }
  return lastSpace < 0 ? text : text.subarray(0, lastSpace);
}

function startsWith(bytes: Uint8Array, head: Uint8Array): boolean {
  if (head.length > bytes.length) return false;
  for (let i = 0; i < head.length; i++) if (bytes[i] !== head[i]) return false;
  return true;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && startsWith(a, b);
}
