/**
 * The `.gitignore` filter against git itself: many random trees with random nested `.gitignore`
 * files and a random `info/exclude`, and for every file the question "would `git add -A` stage
 * it", answered by `git ls-files --others --exclude-standard` and by the filter. The bar is zero
 * differences. A failure prints the seed; rerun one with `GITIGNORE_SEED=<seed>`.
 */

import assert from "node:assert/strict";
import { GitignoreMatcher, type RootSpec } from "./gitignore_matcher.ts";
import { git, gitDecisions, gitIncluded, gitInit } from "../../../test/support/git.ts";
import { readWorktreeRules } from "../../../host/ops/worktree_rules.ts";

/** Work trees per run, each holding TREES_PER_REPO random trees: 200 trees in all. */
const REPOS = 20;
const TREES_PER_REPO = 10;

/** A small fast seeded PRNG (mulberry32). */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    chance: (p: number) => next() < p,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)],
  };
}
type Rng = ReturnType<typeof prng>;

/** Names of files and folders: plain, dotted, and ones whose characters patterns treat specially. */
// deno-fmt-ignore
const NAMES = [
  "a", "b", "c", "ab", "abc", "ba", "a1", "b2", "x.log", "y.log", "z.txt", "build", "doc", "foo",
  "Foo", "bar", ".hidden", ".env", "#h", "!bang", "sp ", "sp", "a b", "x*y", "q?", "[x]",
  "back\\slash", "é", "dé", "a.b.c", "tab\t", "-", "]",
] as const;

/** Wildcard segments, from the grammar gitignore(5) describes. */
// deno-fmt-ignore
const GLOBS = [
  "*", "**", "?", "??", "?*", "*.log", "*.txt", "a*", "*b", "*a*", "[a-c]", "[a-c]*", "[!a-c]*",
  "[^b]*", "[abc]", "[]a]*", "[a-]*", "[[:alpha:]]*", "[[:digit:]]", "*[0-9]", "[x]", "\\[x]",
  "x\\*y", "x*y", "q\\?", "[é]", "d?", "d??", "sp\\ ", "\\#h", "\\!bang", "b**", "**b", "a**b",
  "[!]]", "[\\]]", "[a-c", "[[:bogus:]]", "back\\\\slash", "back\\slash", "tab\t",
] as const;

/** Folders and files of a tree, relative to the repository's top. */
interface Tree {
  dirs: string[];
  files: string[];
}

/** A random tree in folder `dir` (`rel` from the top): up to 4 deep, a file in every folder. */
function makeTree(rng: Rng, dir: string, depth: number, rel: string, tree?: Tree): Tree {
  const t = tree ?? { dirs: [], files: [] };
  t.dirs.push(rel);
  Deno.mkdirSync(dir, { recursive: true });
  const names = new Set<string>();
  const count = rng.int(1, depth === 1 ? 7 : 5);
  while (names.size < count) names.add(rng.pick(NAMES));
  let files = 0;
  for (const name of names) {
    const path = `${rel}/${name}`;
    if (depth < 4 && rng.chance(0.4)) {
      makeTree(rng, `${dir}/${name}`, depth + 1, path, t);
    } else {
      Deno.writeTextFileSync(`${dir}/${name}`, "x");
      t.files.push(path);
      files++;
    }
  }
  if (files === 0) {
    const name = rng.pick(["f", "g.log", "h.txt"]);
    Deno.writeTextFileSync(`${dir}/${name}`, "x");
    t.files.push(`${rel}/${name}`);
  }
  return t;
}

/** One random pattern line (without its line end), often built from a path in the tree. */
function pattern(rng: Rng, tree: Tree, here: string): string {
  const local = tree.dirs.concat(tree.files).filter((p) => p !== "" && within(p, here))
    .map((p) => here === "" ? p : p.slice(here.length + 1));
  let segments: string[];
  if (local.length > 0 && rng.chance(0.75)) {
    segments = rng.pick(local).split("/").map((s) =>
      rng.chance(0.15) ? rng.pick(GLOBS) : rng.chance(0.5) ? blur(rng, s) : s
    );
    if (segments.length > 1 && rng.chance(0.5)) {
      segments = segments.slice(rng.int(1, segments.length - 1));
    }
  } else {
    segments = Array.from(
      { length: rng.int(1, 3) },
      () => rng.chance(0.5) ? rng.pick(GLOBS) : rng.pick(NAMES),
    );
  }
  if (segments.length > 1 && rng.chance(0.15)) {
    segments.splice(rng.int(1, segments.length - 1), 0, "**");
  }
  if (rng.chance(0.15)) {
    // `**` glued to a segment is a `*` to git, except right after the literal head of a pattern.
    const i = rng.int(0, segments.length - 1);
    segments[i] = rng.chance(0.7) ? segments[i] + "**" : "**" + segments[i];
  }
  // Now and then a wildcard where the path has a `/`: git's `?`, `*` and classes never match it.
  let p = segments.map((s, i) =>
    i === 0 ? s : (rng.chance(0.1) ? rng.pick(["?", "*", "[/]", "[!a]", "[[:punct:]]"]) : "/") + s
  ).join("");
  if (rng.chance(0.2)) p = "/" + p;
  else if (rng.chance(0.15)) p = "**/" + p;
  if (rng.chance(0.1)) p += "/**";
  if (rng.chance(0.25)) p += "/";
  if (rng.chance(0.3)) p = "!" + p;
  if (rng.chance(0.15)) p += rng.pick(["  ", " ", "\t", "\\ ", " \\ ", "  \\", "\\"]);
  return p;
}

/**
 * A name with one character made a wildcard that still matches it, or nearly: `?`, `*`, a class
 * or range around it (escaped or not), negated classes, and the literal escaped.
 */
function blur(rng: Rng, name: string): string {
  const chars = [...name];
  const i = rng.int(0, chars.length - 1);
  const c = chars[i];
  const code = c.charCodeAt(0);
  const lo = String.fromCharCode(code - rng.int(0, 1));
  const hi = String.fromCharCode(code + rng.int(-1, 1));
  chars[i] = rng.pick([
    "?",
    "*",
    `[${c}]`,
    `[\\${c}]`,
    `[${lo}-${hi}]`,
    `[!${c}]`,
    `[^${hi}]`,
    `\\${c}`,
    "[[:alnum:]]",
    "[[:punct:]]",
    "[[:space:]]",
    `*${c}`,
    `${c}*`,
    "**",
  ]);
  return chars.join("");
}

/** The bytes of a random ignore file for folder `here` of `tree`. */
function ignoreFile(rng: Rng, tree: Tree, here: string): string {
  const lines: string[] = [];
  const count = rng.int(1, 8);
  for (let i = 0; i < count; i++) {
    if (rng.chance(0.08)) lines.push(rng.pick(["# comment", "", "   ", "#*"]));
    else lines.push(pattern(rng, tree, here));
  }
  const end = rng.chance(0.15) ? "\r\n" : "\n";
  return (rng.chance(0.05) ? "\ufeff" : "") + lines.join(end) + (rng.chance(0.7) ? end : "");
}

function within(path: string, dir: string): boolean {
  return dir === "" || path.startsWith(dir + "/");
}

/** Builds one repository of random trees; returns them with git's verdicts. */
async function makeRepo(rng: Rng, top: string) {
  Deno.mkdirSync(top);
  await gitInit(top);
  const trees: Tree[] = [];
  const all: Tree = { dirs: [], files: [] };
  for (let i = 0; i < TREES_PER_REPO; i++) {
    const tree = makeTree(rng, `${top}/t${i}`, 1, `t${i}`);
    trees.push(tree);
    all.dirs.push(...tree.dirs);
    all.files.push(...tree.files);
  }
  for (const dir of all.dirs) {
    if (rng.chance(0.4)) {
      Deno.writeTextFileSync(`${top}/${dir}/.gitignore`, ignoreFile(rng, all, dir));
    }
  }
  if (rng.chance(0.7)) Deno.writeTextFileSync(`${top}/.gitignore`, ignoreFile(rng, all, ""));
  if (rng.chance(0.7)) {
    Deno.mkdirSync(`${top}/.git/info`, { recursive: true });
    Deno.writeTextFileSync(`${top}/.git/info/exclude`, ignoreFile(rng, all, ""));
  }
  const paths = [...all.dirs, ...filesUnder(top)];
  return { trees, included: await gitIncluded(top), decisions: await gitDecisions(top, paths) };
}

/** Every file in `top` (the `.gitignore` files too), relative to it, without `.git`. */
function filesUnder(top: string, rel = "", out: string[] = []): string[] {
  for (const e of Deno.readDirSync(rel === "" ? top : `${top}/${rel}`)) {
    const path = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.name === ".git") continue;
    if (e.isDirectory) filesUnder(top, path, out);
    else out.push(path);
  }
  return out;
}

/** The files the matcher keeps, relative to `top`. */
function keptBy(matcher: GitignoreMatcher, top: string, files: string[]): Set<string> {
  return new Set(files.filter((f) => !matcher.excluded(`${top}/${f}`, false)));
}

/** The deciding rule of each of `paths` (relative to `top`), written as git writes it. */
function decidedBy(matcher: GitignoreMatcher, top: string, paths: string[], dirs: Set<string>) {
  const out = new Map<string, string>();
  for (const p of paths) {
    const d = matcher.decision(`${top}/${p}`, dirs.has(p));
    const source = d === undefined
      ? ""
      : d.source.includes("info/exclude")
      ? ".git/info/exclude"
      : d.source.slice(top.length + 1);
    out.set(p, d === undefined ? "" : `${source}:${d.rule.line}`);
  }
  return out;
}

function ruleDifferences(expected: Map<string, string>, actual: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [p, rule] of actual) {
    const want = expected.get(p);
    if (want !== rule) out.push(`${p}: git "${want}", filter "${rule}"`);
  }
  return out;
}

function differences(expected: Set<string>, actual: Set<string>): string[] {
  const out: string[] = [];
  for (const f of expected) if (!actual.has(f)) out.push(`git includes, filter excludes: ${f}`);
  for (const f of actual) if (!expected.has(f)) out.push(`git excludes, filter includes: ${f}`);
  return out;
}

function ignoreFilesOf(top: string): string {
  const out: string[] = [];
  for (
    const f of [
      ".git/info/exclude",
      ...filesUnder(top).filter((f) => /(^|\/)\.gitignore$/.test(f)),
    ]
  ) {
    try {
      out.push(`--- ${f}\n${JSON.stringify(Deno.readTextFileSync(`${top}/${f}`))}`);
    } catch {
      // no info/exclude
    }
  }
  return out.join("\n");
}

Deno.test("the filter keeps exactly the files git would add, over 200 random trees", async () => {
  const given = Deno.env.get("GITIGNORE_SEED");
  const base = given !== undefined ? Number(given) : 0x5eed;
  // Thousands of small files: in memory where there is a tmpfs (10 times faster on a busy disk).
  const shm = await Deno.stat("/dev/shm").then((s) => s.isDirectory, () => false);
  const work = await Deno.makeTempDir({
    prefix: "pf-gitignore-oracle-",
    dir: shm ? "/dev/shm" : undefined,
  });
  try {
    for (let r = 0; r < (given !== undefined ? 1 : REPOS); r++) {
      const seed = base + r;
      const top = `${work}/r${seed}`;
      const { trees, included, decisions } = await makeRepo(prng(seed), top);
      const files = filesUnder(top);
      const dirs = new Set(trees.flatMap((t) => t.dirs));
      const paths = [...dirs, ...files];
      const fail = (how: string, diff: string[]) =>
        `${how}: ${diff.length} difference(s) with git, seed ${seed} ` +
        `(rerun: GITIGNORE_SEED=${seed})\n${diff.join("\n")}\n${ignoreFilesOf(top)}`;

      // The repository's top as the root: the filter reads .git/info/exclude itself.
      const matcher = new GitignoreMatcher([{ path: top }]);
      const diff = differences(included, keptBy(matcher, top, files));
      assert.equal(diff.length, 0, fail("root at the top", diff));
      const rules = ruleDifferences(decisions, decidedBy(matcher, top, paths, dirs));
      assert.equal(rules.length, 0, fail("root at the top, deciding rules", rules));

      // Each tree as a root inside the work tree: what lies above comes from the host.
      const roots: RootSpec[] = trees.map((_, i) => {
        const path = `${top}/t${i}`;
        return { path, worktree: readWorktreeRules(path) };
      });
      const innerMatcher = new GitignoreMatcher(roots);
      const inner = keptBy(innerMatcher, top, files.filter((f) => f.includes("/")));
      const expected = new Set([...included].filter((f) => f.includes("/")));
      const innerDiff = differences(expected, inner);
      assert.equal(innerDiff.length, 0, fail("roots inside the work tree", innerDiff));
      const below = paths.filter((p) => p.includes("/"));
      const innerRules = ruleDifferences(
        new Map(below.map((p) => [p, decisions.get(p)!])),
        decidedBy(innerMatcher, top, below, dirs),
      );
      assert.equal(innerRules.length, 0, fail("roots inside the work tree, rules", innerRules));
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("nested repositories follow their own rules, as git run inside each does", async () => {
  const top = await Deno.makeTempDir({ prefix: "pf-gitignore-nested-" });
  const write = (path: string, text = "x") => {
    Deno.mkdirSync(`${top}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
    Deno.writeTextFileSync(`${top}/${path}`, text);
  };
  try {
    await gitInit(top);
    write(".gitignore", "*.log\n/inner/skip/\nsub/x\nhidden/\n");
    for (const f of ["a.log", "b.txt", "sub/x"]) write(f);
    // A nested repository: outer rules decide only whether it is there at all.
    for (const f of ["x.log", "y.tmp", "skip/f", "sub/x", "excl", "keep"]) write(`inner/${f}`);
    await gitInit(`${top}/inner`);
    write("inner/.gitignore", "*.tmp\n");
    write("inner/.git/info/exclude", "excl\n");
    // One whose git folder lies elsewhere (a `.git` file), as a submodule's does.
    for (const f of ["z.log", "w", "own"]) write(`mod/${f}`);
    Deno.mkdirSync(`${top}/.git/modules`);
    await git(top, ["init", "-q", "--template=", `--separate-git-dir=.git/modules/mod`, "mod"]);
    write(".git/modules/mod/info/exclude", "own\n");
    // One the outer rules ignore: nothing in it is kept.
    for (const f of ["h", "i.txt"]) write(`hidden/${f}`);
    await gitInit(`${top}/hidden`);

    const expected = new Set<string>();
    for (const f of await gitIncluded(top)) {
      if (!f.endsWith("/")) expected.add(f);
      else for (const g of await gitIncluded(`${top}/${f}`)) expected.add(f + g);
    }
    const files = filesUnder(top);
    const kept = keptBy(new GitignoreMatcher([{ path: top }]), top, files);
    assert.deepEqual([...kept].sort(), [...expected].sort());
    assert.ok(kept.has("inner/x.log") && !kept.has("inner/excl") && !kept.has("mod/own"));
    assert.ok(!kept.has("hidden/i.txt"));
  } finally {
    await Deno.remove(top, { recursive: true });
  }
});
