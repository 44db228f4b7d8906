/**
 * What `backup` leaves out, through the real CLI: `--git-ignore` (compared with git itself),
 * `--exclude`, `--exclude-file`, `--exclude-if-present` and `--exclude-larger-than`, composed,
 * over one source and several; and `--engine`, refused before anything is written when the
 * engine is not installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { cli, tempDir } from "./helpers.ts";
import { gitIncluded, gitInit } from "./support/git.ts";

/** The signature a CACHEDIR.TAG starts with (https://bford.info/cachedir/). */
const CACHEDIR_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55";

async function setup() {
  const repo = join(await tempDir(), "repo");
  const env = { PERMAFROST_REPO: repo, PERMAFROST_CACHE_DIR: await tempDir() };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  return { repo, env };
}

/** Writes `files` (relative path → content) under `root`. */
function write(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, data] of Object.entries(files)) {
    fs.mkdirSync(join(root, rel, ".."), { recursive: true });
    fs.writeFileSync(join(root, rel), data);
  }
}

/** The files (not folders or links) of the latest snapshot under `/name`, relative to it. */
async function snapshotFiles(env: Record<string, string>, name: string): Promise<Set<string>> {
  const r = await cli(["ls", "latest", `/${name}`, "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  const entries = JSON.parse(r.stdout) as { path: string; type: string }[];
  return new Set(
    entries.filter((e) => e.type === "file").map((e) => e.path.slice(name.length + 2)),
  );
}

/** Every file and folder under `dir`, with its size and mtime. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = join(rel, e.name);
      const st = fs.lstatSync(join(dir, path));
      out.push(`${path} ${st.size} ${st.mtimeMs}`);
      if (e.isDirectory()) walk(path);
    }
  };
  walk("");
  return out.sort();
}

/**
 * A git work tree with rules at its top, in a subfolder and in `.git/info/exclude`, and a
 * folder `proj` below the top whose files those rules decide.
 */
async function workTree(): Promise<string> {
  const top = await Deno.realPath(await tempDir("pf-wt-"));
  await gitInit(top);
  write(top, {
    ".gitignore": "*.log\n!keep.log\nbuild/\n/proj/top-only.txt\n",
    ".git/info/exclude": "secret*\n",
    "proj/a.txt": "a",
    "proj/b.log": "b",
    "proj/keep.log": "keep",
    "proj/top-only.txt": "anchored at the top, so ignored",
    "proj/secret.key": "s",
    "proj/build/out.o": "o",
    "proj/sub/.gitignore": "*.tmp\n!important.tmp\n",
    "proj/sub/c.tmp": "c",
    "proj/sub/important.tmp": "i",
    "proj/sub/d.txt": "d",
    "proj/sub/deep/e.log": "e",
    "proj/docs/guide.md": "guide",
    "proj/docs/draft.md": "draft",
  });
  return top;
}

/** What git would add under `top/prefix`, relative to that folder. */
async function gitFiles(top: string, prefix = ""): Promise<Set<string>> {
  const all = [...await gitIncluded(top)];
  return new Set(
    prefix === ""
      ? all
      : all.filter((p) => p.startsWith(`${prefix}/`)).map((p) => p.slice(prefix.length + 1)),
  );
}

Deno.test("backup --git-ignore --exclude keeps exactly what git would add, less what --exclude names", async () => {
  const { env } = await setup();
  const top = await workTree();
  const r = await cli(["backup", `${top}/proj`, "--git-ignore", "--exclude", "*.md"], env);
  assert.equal(r.code, 0, r.stderr);
  const expected = [...await gitFiles(top, "proj")].filter((p) => !p.endsWith(".md")).sort();
  assert.deepEqual([...await snapshotFiles(env, "proj")].sort(), expected);
  // The rules were all in play: above the source, beside it, below it and in info/exclude.
  for (const gone of ["b.log", "top-only.txt", "secret.key", "build/out.o", "sub/c.tmp"]) {
    assert.ok(!expected.includes(gone), gone);
  }
  assert.ok(expected.includes("keep.log") && expected.includes("sub/important.tmp"));
});

Deno.test("backup --git-ignore of a folder that git itself ignores is refused before anything is written, not saved empty", async () => {
  const { env } = await setup();
  const top = await Deno.realPath(await tempDir("pf-wt-ignored-"));
  await gitInit(top);
  write(top, { ".gitignore": "build/\n", "build/out.o": "object", "src/a.c": "source" });
  const r = await cli(["backup", `${top}/build`, "--git-ignore"], env);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /source ".*\/build" is itself ignored by git .*without --git-ignore/);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  const listed = await cli(["snapshots", "--json"], env);
  assert.deepEqual(JSON.parse(listed.stdout), [], "no snapshot was saved");
  // A folder beside it that git keeps is backed up as before, and so is the ignored one alone.
  assert.equal((await cli(["backup", `${top}/src`, "--git-ignore"], env)).code, 0);
  assert.equal((await cli(["backup", `${top}/build`], env)).code, 0);
  assert.deepEqual([...await snapshotFiles(env, "build")], ["out.o"]);
});

Deno.test("backup --git-ignore of two work trees decides each path by the rules of its own", async () => {
  const { env } = await setup();
  const first = await workTree();
  const second = await Deno.realPath(await tempDir("pf-wt2-"));
  await gitInit(second);
  write(second, {
    ".gitignore": "*.txt\n",
    "a.txt": "ignored here, kept in the first tree",
    "b.log": "kept here, ignored in the first tree",
    "sub/c.txt": "c",
    "sub/d.md": "d",
  });
  const r = await cli(["backup", `${first}/proj`, second, "--git-ignore"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    [...await snapshotFiles(env, "proj")].sort(),
    [...await gitFiles(first, "proj")].sort(),
  );
  const name = second.split("/").pop()!;
  const secondFiles = await snapshotFiles(env, name);
  // The second tree is a source at its top: its .git is backed up whole, as git's history.
  const outsideGit = [...secondFiles].filter((p) => !p.startsWith(".git/")).sort();
  assert.deepEqual(outsideGit, [...await gitFiles(second)].sort());
  assert.ok([...secondFiles].some((p) => p.startsWith(".git/")), "the .git folder is kept");
  assert.ok(outsideGit.includes("b.log") && !outsideGit.includes("a.txt"));
});

Deno.test("backup --exclude-if-present, --exclude-larger-than and --exclude-file leave out what they name, and the snapshot counts what it holds", async () => {
  const { env } = await setup();
  const src = await tempDir();
  write(src, {
    "keep.txt": "k",
    "cache/CACHEDIR.TAG": `${CACHEDIR_SIGNATURE}\n# This file is a cache directory tag.\n`,
    "cache/blob": "cached",
    "fake-cache/CACHEDIR.TAG": "no signature here\n",
    "fake-cache/kept": "kept, since its tag is not one",
    "marked/.nobackup": "",
    "marked/x": "x",
    "big.iso": new Uint8Array(4096),
    "small.iso": new Uint8Array(4095),
    "notes.tmp": "t",
    "drafts/one.txt": "one",
  });
  const patterns = join(await tempDir(), "excludes");
  fs.writeFileSync(patterns, "# what the editor leaves\r\n*.tmp\r\n\r\ndrafts/\r\n");
  const r = await cli([
    "backup",
    src,
    "--exclude-if-present",
    "CACHEDIR.TAG",
    "--exclude-if-present",
    ".nobackup",
    "--exclude-larger-than",
    "4095",
    "--exclude-file",
    patterns,
    "--json",
  ], env);
  assert.equal(r.code, 0, r.stderr);
  const name = src.split("/").pop()!;
  assert.deepEqual([...await snapshotFiles(env, name)].sort(), [
    "fake-cache/CACHEDIR.TAG",
    "fake-cache/kept",
    "keep.txt",
    "small.iso",
  ]);
  const result = JSON.parse(r.stdout);
  assert.equal(result.stats.files, 4);
  assert.deepEqual(result.skipped, [], "what the user leaves out is no warning");

  const missing = await cli(["backup", src, "--exclude-file", join(src, "nope")], env);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--exclude-file ".*nope" cannot be read/);
  const size = await cli(["backup", src, "--exclude-larger-than", "2 gigs"], env);
  assert.equal(size.code, 2);
  assert.match(size.stderr, /--exclude-larger-than: size "2 gigs" is not a number/);
});

Deno.test("backup --engine with an engine that is not installed is refused before anything is written; the snapshot records the engine", async () => {
  const { repo, env } = await setup();
  const src = await tempDir();
  write(src, { "a.txt": "a" });
  const before = listing(repo);
  const r = await cli(["backup", src, "--engine", "dedupe"], env);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^permafrost: --engine: engine "dedupe" is not installed \(engines: "dedup"[^)]*\); did you mean "dedup"\?\n/,
  );
  assert.deepEqual(listing(repo), before, "nothing was written");
  const ok = await cli(["backup", src, "--engine", "dedup", "--json"], env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).engine, "dedup");
  const snaps = JSON.parse((await cli(["snapshots", "--json"], env)).stdout);
  assert.deepEqual(snaps.map((s: { engine: string }) => s.engine), ["dedup"]);
});
