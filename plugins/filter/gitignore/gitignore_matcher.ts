/**
 * Which paths under the backup roots git would ignore: every `.gitignore` from the top of the
 * path's work tree down to its folder, and the work tree's `info/exclude`, with git's precedence
 * and its rule that nothing inside an ignored folder comes back (docs/plugins.md §6.5).
 *
 * A root is matched as part of the git work tree that holds it. When the root lies in one (at
 * its top or below), the host reads what lies outside the root (the `.gitignore` files above it,
 * the `info/exclude` wherever the git folder is) and passes it as `worktree`: the filter itself
 * may read only the roots. Without `worktree`, a root is the top of its own tree (with the
 * `info/exclude` of its `.git`, if it has one). A folder below a root that has a `.git`
 * of its own is the top of another work tree (a nested repository or submodule): inside it, only
 * its own rules apply, as when git runs there. `.git` itself, and everything in it, is never
 * excluded: git never applies ignore rules there, and it is the repository's history.
 *
 * @module
 */

import { type IgnoreRule, IgnoreRules } from "./gitignore_rules.ts";
import {
  readGitignore,
  readInfoExclude,
  workTreeCommonDir,
  type WorktreeRules,
} from "../../sdk/mod.ts";

export type { WorktreeRules };

/** One backup root: an absolute, normalised path, and what the host read above it. */
export interface RootSpec {
  path: string;
  worktree?: WorktreeRules;
}

/** A git work tree: its top (absolute) and the rules of its `info/exclude`. */
interface Tree {
  top: string;
  exclude?: IgnoreRules;
}

/** The rule that decided a path, and the file that holds it (as `git check-ignore -v`). */
export interface Decision {
  rule: IgnoreRule;
  source: string;
}

/** What is known about one folder, for the entries in it. */
type DirState =
  /** The folder, or one above it, is excluded (by `by`): so is everything in it. */
  | { kind: "excluded"; by: Decision }
  /** The folder is (inside) a `.git`: everything in it is kept. */
  | { kind: "kept" }
  /**
   * The folder's work tree, its path relative to the tree's top, its rules deepest first, and
   * the bytes of the rules read for this folder (for the cache's bound).
   */
  | { kind: "rules"; tree: Tree; rel: string; lists: IgnoreRules[]; added: number };
type RulesState = DirState & { kind: "rules" };

const KEPT: DirState = { kind: "kept" };

/** How much the matcher caches: folders, and bytes of parsed rules (defaults below). */
export interface CacheLimits {
  states?: number;
  ruleBytes?: number;
}

/** Folder states kept at most; the cache is emptied when it would hold more. */
const MAX_STATES = 8192;
/** Bytes of parsed rules the cached states may hold at most. */
const MAX_RULE_BYTES = 64 << 20;

const encoder = new TextEncoder();

/**
 * The verdicts for paths under a set of roots.
 *
 * Contract: `excluded(path, isDir)` takes an absolute path at or under one root, or, when there
 * is exactly one root, a path relative to it (`/`-separated, no empty, `.` or `..` segment); any
 * other path is a `TypeError`. It reads `.gitignore` files and `.git` entries under the roots
 * as it goes, caching what it read per folder (at most {@link MAX_STATES} folders and
 * {@link MAX_RULE_BYTES} of rules), and throws, naming the file, when one that is there cannot
 * be read. Roots must not nest (a `TypeError` from the constructor).
 */
export class GitignoreMatcher {
  readonly #roots: RootSpec[];
  readonly #limits: Required<CacheLimits>;
  #states = new Map<string, DirState>();
  #held = 0;

  constructor(roots: RootSpec[], limits: CacheLimits = {}) {
    this.#limits = {
      states: limits.states ?? MAX_STATES,
      ruleBytes: limits.ruleBytes ?? MAX_RULE_BYTES,
    };
    for (const a of roots) {
      for (const b of roots) {
        if (a !== b && (a.path === b.path || within(b.path, a.path))) {
          throw new TypeError(
            `roots "${a.path}" and "${b.path}" nest; the .gitignore filter needs separate roots`,
          );
        }
      }
    }
    this.#roots = roots;
  }

  /** Whether git would ignore `path` (a directory when `isDir`). */
  excluded(path: string, isDir: boolean): boolean {
    const d = this.decision(path, isDir);
    return d !== undefined && !d.rule.negative;
  }

  /**
   * The rule that decides `path`: the one that excludes it or the folder above it that is
   * excluded, or the `!` rule that keeps it; `undefined` when no rule matches (kept).
   */
  decision(path: string, isDir: boolean): Decision | undefined {
    const { root, rel } = this.#locate(path);
    const cut = rel.lastIndexOf("/");
    const parent = rel === ""
      ? this.#dirState(root, "")
      : this.#dirState(root, cut < 0 ? "" : rel.slice(0, cut));
    if (parent.kind === "excluded") return parent.by;
    if (rel === "" || parent.kind === "kept") return undefined;
    const name = rel.slice(cut + 1);
    return name === ".git" ? undefined : decide(parent, join(parent.rel, name), isDir);
  }

  /** The root that holds `path`, and `path` relative to it. */
  #locate(path: string): { root: RootSpec; rel: string } {
    if (typeof path !== "string") throw new TypeError(`path "${path}" is no string`);
    let root: RootSpec | undefined;
    let rel: string;
    if (path.startsWith("/")) {
      root = this.#roots.find((r) => r.path === path || within(path, r.path));
      if (root === undefined) {
        throw new TypeError(`path "${path}" is under none of the roots of the .gitignore filter`);
      }
      rel = path === root.path ? "" : path.slice(root.path === "/" ? 1 : root.path.length + 1);
    } else {
      if (this.#roots.length !== 1) {
        throw new TypeError(
          `path "${path}" is relative, but the .gitignore filter has ${this.#roots.length} ` +
            `roots; give absolute paths`,
        );
      }
      root = this.#roots[0];
      rel = path;
    }
    if (rel !== "" && rel.split("/").some((s) => s === "" || s === "." || s === "..")) {
      throw new TypeError(`path "${path}" has an empty, "." or ".." segment`);
    }
    return { root, rel };
  }

  /** The state of folder `rel` (relative to `root`), from the cache or from its parent's. */
  #dirState(root: RootSpec, rel: string): DirState {
    const abs = rel === "" ? root.path : join(root.path, rel);
    const cached = this.#states.get(abs);
    if (cached) return cached;
    let state: DirState;
    if (rel === "") {
      state = rootState(root);
    } else {
      const cut = rel.lastIndexOf("/");
      const parent = this.#dirState(root, cut < 0 ? "" : rel.slice(0, cut));
      state = childState(parent, abs, rel.slice(cut + 1));
    }
    this.#remember(abs, state);
    return state;
  }

  #remember(abs: string, state: DirState): void {
    const size = state.kind === "rules" ? state.added + 128 : 64;
    if (this.#states.size >= this.#limits.states || this.#held + size > this.#limits.ruleBytes) {
      this.#states.clear();
      this.#held = 0;
    }
    this.#states.set(abs, state);
    this.#held += size;
  }
}

/** The state of a root: its work tree and the rules that reach it from above. */
function rootState(root: RootSpec): DirState {
  if (root.path.split("/").includes(".git")) return KEPT;
  const w = root.worktree;
  if (w === undefined) return topState(root.path);
  const tree: Tree = { top: w.top, exclude: rulesOf(w.exclude, "", excludeName(w.top)) };
  const own = (dir: string) => dir === root.path ? readGitignore(dir) : w.gitignores?.[dir];
  let lists = listsOf([], own(w.top), w.top);
  let state: RulesState = { kind: "rules", tree, rel: "", lists, added: 0 };
  const below = root.path.slice(w.top === "/" ? 1 : w.top.length + 1);
  const parts = w.top === root.path ? [] : below.split("/");
  for (let i = 0; i < parts.length; i++) {
    const rel = parts.slice(0, i + 1).join("/");
    const by = decide(state, rel, true);
    if (by && !by.rule.negative) return { kind: "excluded", by };
    lists = listsOf(state.lists, own(join(w.top, rel)), join(w.top, rel), rel);
    state = { kind: "rules", tree, rel, lists, added: 0 };
  }
  return { ...state, added: bytesOf(lists) + (tree.exclude?.size ?? 0) };
}

/** The state of a folder that is the top of its own work tree (or treated as one). */
function topState(dir: string): DirState {
  const common = workTreeCommonDir(dir);
  const exclude = common === undefined ? undefined : readInfoExclude(common);
  const tree: Tree = { top: dir, exclude: rulesOf(exclude, "", `${common}/info/exclude`) };
  const lists = listsOf([], readGitignore(dir), dir);
  return { kind: "rules", tree, rel: "", lists, added: bytesOf(lists) + (tree.exclude?.size ?? 0) };
}

/** The state of folder `name` (absolute path `abs`) in a folder whose state is `parent`. */
function childState(parent: DirState, abs: string, name: string): DirState {
  if (parent.kind !== "rules") return parent;
  if (name === ".git") return KEPT;
  const rel = join(parent.rel, name);
  const by = decide(parent, rel, true);
  if (by && !by.rule.negative) return { kind: "excluded", by };
  if (workTreeCommonDir(abs) !== undefined) return topState(abs);
  const lists = listsOf(parent.lists, readGitignore(abs), abs, rel);
  const added = lists === parent.lists ? 0 : lists[0].size;
  return { kind: "rules", tree: parent.tree, rel, lists, added };
}

/**
 * The rule that decides `rel` (relative to the tree's top) in a folder with these rules: the
 * last matching rule of the deepest `.gitignore` that has one, else of `info/exclude`;
 * `undefined` when none matches (the path is kept).
 */
function decide(state: RulesState, rel: string, isDir: boolean): Decision | undefined {
  const path = encoder.encode(rel);
  for (const list of state.lists) {
    const rule = list.lastMatch(path, isDir);
    if (rule) return { rule, source: list.source };
  }
  const exclude = state.tree.exclude;
  const rule = exclude?.lastMatch(path, isDir);
  return rule ? { rule, source: exclude!.source } : undefined;
}

/** `outer` with the rules of the `.gitignore` of folder `dir` (`rel` in its tree) in front. */
function listsOf(outer: IgnoreRules[], content: Uint8Array | undefined, dir: string, rel = "") {
  const own = rulesOf(content, rel, join(dir, ".gitignore"));
  return own ? [own, ...outer] : outer;
}

function bytesOf(lists: IgnoreRules[]): number {
  return lists.reduce((n, l) => n + l.size, 0);
}

function rulesOf(content: Uint8Array | undefined, rel: string, source: string) {
  if (content === undefined) return undefined;
  const rules = new IgnoreRules(content, rel, source);
  return rules.rules.length > 0 ? rules : undefined;
}

/** How `info/exclude` is named when the host read it (the filter does not know where). */
function excludeName(top: string): string {
  return `info/exclude of the work tree "${top}"`;
}

function join(dir: string, name: string): string {
  return dir === "" ? name : dir === "/" ? `/${name}` : `${dir}/${name}`;
}

/** Whether absolute `path` lies strictly below folder `dir`. */
function within(path: string, dir: string): boolean {
  return dir === "/" ? path.length > 1 : path.startsWith(`${dir}/`);
}
