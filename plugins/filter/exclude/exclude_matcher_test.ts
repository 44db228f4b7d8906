import assert from "node:assert/strict";
import { ExcludeMatcher } from "./exclude_matcher.ts";

/** Asserts which of `files` (and `dirs`) the patterns exclude. */
function check(
  patterns: string[],
  expect: { excluded?: string[]; kept?: string[]; excludedDirs?: string[]; keptDirs?: string[] },
): void {
  const m = new ExcludeMatcher(patterns);
  for (const p of expect.excluded ?? []) assert.equal(m.excluded(p, false), true, `file ${p}`);
  for (const p of expect.kept ?? []) assert.equal(m.excluded(p, false), false, `file ${p}`);
  for (const p of expect.excludedDirs ?? []) assert.equal(m.excluded(p, true), true, `dir ${p}`);
  for (const p of expect.keptDirs ?? []) assert.equal(m.excluded(p, true), false, `dir ${p}`);
}

Deno.test("a pattern without a slash matches the base name at any depth", () => {
  check(["*.o"], { excluded: ["a.o", "x/y/b.o"], kept: ["a.c", "ao", "o"] });
  check(["node_modules"], {
    excludedDirs: ["node_modules", "a/b/node_modules"],
    excluded: ["a/node_modules/x.js"],
  });
});

Deno.test("a pattern with a slash matches the path from the source root", () => {
  check(["/build"], { excludedDirs: ["build"], keptDirs: ["src/build"] });
  check(["doc/frotz"], { excluded: ["doc/frotz", "doc/frotz/x"], kept: ["a/doc/frotz"] });
  check(["a/*.txt"], { excluded: ["a/b.txt"], kept: ["a/b/c.txt", "b.txt"] });
});

Deno.test("a trailing slash matches directories only, and everything inside them", () => {
  check(["build/"], {
    excludedDirs: ["build", "src/build"],
    excluded: ["build/x.c", "src/build/deep/y"],
    kept: ["build", "src/build"],
  });
  check(["doc/frotz/"], {
    excludedDirs: ["doc/frotz"],
    keptDirs: ["a/doc/frotz"],
    kept: ["doc/frotz"],
  });
});

Deno.test("** matches any number of folders in the three gitignore positions", () => {
  check(["**/foo"], { excluded: ["foo", "a/b/foo"], kept: ["afoo"] });
  check(["foo/**"], { excluded: ["foo/a", "foo/a/b"], keptDirs: ["foo"], kept: ["x/foo/a"] });
  check(["a/**/b"], { excluded: ["a/b", "a/x/b", "a/x/y/b"], kept: ["a/xb", "b"] });
  check(["a**b"], { excluded: ["axyb"], kept: ["ax/yb"] });
});

Deno.test("! re-includes, the last matching pattern winning", () => {
  check(["*.log", "!keep.log"], {
    excluded: ["x.log", "d/y.log"],
    kept: ["keep.log", "d/keep.log"],
  });
  check(["!keep.log", "*.log"], { excluded: ["keep.log"] });
});

Deno.test("a path inside an excluded directory cannot be re-included", () => {
  check(["logs/", "!logs/keep.log"], { excluded: ["logs/keep.log", "logs/other"] });
  check(["logs/*", "!logs/keep.log"], { excluded: ["logs/other"], kept: ["logs/keep.log"] });
});

Deno.test("* and ? do not match a slash, and * matches dot files", () => {
  check(["a?c"], { excluded: ["abc"], kept: ["a/c", "ac"] });
  check(["*"], { excluded: [".env", "x"] });
  check([".*"], { excluded: [".env", "d/.git"], kept: ["env"] });
});

Deno.test("characters picomatch treats as syntax are literal, as in gitignore", () => {
  check(["(a)"], { excluded: ["(a)"], kept: ["a"] });
  check(["{a,b}"], { excluded: ["{a,b}"], kept: ["a", "b"] });
  check(["a|b"], { excluded: ["a|b"], kept: ["a", "b"] });
  check(["+(x)"], { excluded: ["+(x)"], kept: ["x", "xx"] });
  check(["a+b.$x"], { excluded: ["a+b.$x"], kept: ["aab.$x"] });
  check(["[!a]x"], { excluded: ["bx"], kept: ["ax"] });
  check(["[a-c]1"], { excluded: ["b1"], kept: ["d1"] });
  check(["x\\*y"], { excluded: ["x*y"], kept: ["xzy"] });
  check(["[unclosed"], { excluded: ["[unclosed"] });
});

Deno.test("blank entries and comments are ignored; \\# and \\! escape", () => {
  assert.equal(new ExcludeMatcher(["", "   ", "# a comment"]).size, 0);
  check(["\\#x", "\\!y"], { excluded: ["#x", "!y"], kept: ["x", "y"] });
  check(["a.txt   "], { excluded: ["a.txt"] });
  check(["a\\ "], { excluded: ["a "], kept: ["a"] });
});

Deno.test("no patterns exclude nothing, and path spellings are normalised", () => {
  check([], { kept: ["a", "b/c"] });
  check(["/x/y"], { excluded: ["./x/y", "/x/y", "x/y/"] });
});

Deno.test("a pattern that matches nothing is refused with TypeError", () => {
  assert.throws(() => new ExcludeMatcher(["/"]), TypeError);
  assert.throws(() => new ExcludeMatcher([3 as unknown as string]), TypeError);
});

Deno.test("a shared dirCache gives the same answers as none", () => {
  const m = new ExcludeMatcher(["b/", "!b/keep"]);
  const cache = new Map<string, boolean>();
  for (
    const [p, d] of [["a/b/c", false], ["a/x", false], ["b/keep", false], ["a/c", true]] as const
  ) {
    assert.equal(m.excluded(p, d, cache), m.excluded(p, d), p);
  }
  assert.equal(cache.get("a/b"), true);
});
