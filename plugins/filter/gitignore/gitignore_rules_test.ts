import assert from "node:assert/strict";
import { IgnoreRules } from "./gitignore_rules.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

/** The rules of `text` as a `.gitignore` in folder `base`. */
function rules(text: string, base = ""): IgnoreRules {
  return new IgnoreRules(bytes(text), base, "test");
}

/** The line of the rule that decides `path`, or 0 when none matches. */
function lineFor(r: IgnoreRules, path: string, isDir = false): number {
  return r.lastMatch(bytes(path), isDir)?.line ?? 0;
}

const patterns = (r: IgnoreRules) => r.rules.map((x) => new TextDecoder().decode(x.pattern));

Deno.test("blank lines and # comments are no rules; \\# and \\! start literal ones", () => {
  const r = rules("# comment\n\n   \n\\#x\n\\!y\n#\n");
  assert.deepEqual(patterns(r), ["\\#x", "\\!y"]);
  assert.equal(lineFor(r, "#x"), 4);
  assert.equal(lineFor(r, "!y"), 5);
  assert.equal(lineFor(r, "x"), 0);
});

Deno.test("trailing spaces are dropped unless escaped; tabs are kept", () => {
  const r = rules("a  \nb\\ \nc\t\nd \\ \ne  \\");
  assert.deepEqual(patterns(r), ["a", "b\\ ", "c\t", "d \\ ", "e  \\"]);
  assert.equal(lineFor(r, "a"), 1);
  assert.equal(lineFor(r, "b "), 2);
  assert.equal(lineFor(r, "b"), 0);
  assert.equal(lineFor(r, "c\t"), 3);
  assert.equal(lineFor(r, "c"), 0);
  assert.equal(lineFor(r, "d  "), 4);
  assert.equal(lineFor(r, "e"), 0); // a lone trailing backslash: nothing is trimmed, nothing matches
});

Deno.test("CRLF line ends, a byte order mark and a last line without an end are read", () => {
  const r = rules("\ufeffa\r\nb\r\n\r\nc");
  assert.deepEqual(patterns(r), ["a", "b", "c"]);
  assert.deepEqual(r.rules.map((x) => x.line), [1, 2, 4]);
  assert.equal(lineFor(r, "a"), 1);
});

Deno.test("a line is read up to a NUL byte, as git reads it as a C string", () => {
  assert.deepEqual(patterns(rules("ab\0cd\n")), ["ab"]);
});

Deno.test("! negates, and the last matching rule decides", () => {
  const r = rules("*.log\n!keep.log\n");
  assert.equal(r.lastMatch(bytes("x.log"), false)?.negative, false);
  assert.equal(r.lastMatch(bytes("d/keep.log"), false)?.negative, true);
  assert.equal(lineFor(rules("!keep.log\n*.log\n"), "keep.log"), 2);
});

Deno.test("a trailing slash matches folders only", () => {
  const r = rules("build/\n");
  assert.equal(lineFor(r, "build", true), 1);
  assert.equal(lineFor(r, "src/build", true), 1);
  assert.equal(lineFor(r, "build", false), 0);
});

Deno.test("a rule without a slash matches the base name at any depth", () => {
  const r = rules("*.o\nfoo\n");
  assert.equal(lineFor(r, "x/y/a.o"), 1);
  assert.equal(lineFor(r, "x/foo"), 2);
  assert.equal(lineFor(r, "foo/x"), 0); // the folder matches, but that is the folder's verdict
});

Deno.test("a slash at the start or in the middle anchors the rule to the file's folder", () => {
  const top = rules("/a\nb/c\n");
  assert.equal(lineFor(top, "a"), 1);
  assert.equal(lineFor(top, "x/a"), 0);
  assert.equal(lineFor(top, "b/c"), 2);
  assert.equal(lineFor(top, "x/b/c"), 0);
  const sub = rules("/a\nb/c\nd\n", "s/t");
  assert.equal(lineFor(sub, "s/t/a"), 1);
  assert.equal(lineFor(sub, "s/t/x/a"), 0);
  assert.equal(lineFor(sub, "s/t/b/c"), 2);
  assert.equal(lineFor(sub, "s/t/x/d"), 3);
});

Deno.test("** matches folders: leading, middle and trailing", () => {
  const r = rules("**/lead\nmid/**/x\ntrail/**\n");
  assert.equal(lineFor(r, "lead"), 1);
  assert.equal(lineFor(r, "a/b/lead"), 1);
  assert.equal(lineFor(r, "mid/x"), 2);
  assert.equal(lineFor(r, "mid/a/b/x"), 2);
  assert.equal(lineFor(r, "trail/a/b"), 3);
  assert.equal(lineFor(r, "trail", true), 0);
});

Deno.test("git matches the literal head as is, so ** right after it crosses folders", () => {
  // A quirk of git's: "ab**/c" has the literal head "ab"; the rest, "**/c", starts a pattern.
  assert.equal(lineFor(rules("ab**/c\n"), "abx/y/c"), 1);
  assert.equal(lineFor(rules("/b**\n"), "bx/y"), 1);
  assert.equal(lineFor(rules("*b**/c\n"), "xbx/y/c"), 0); // no literal head: ** is a *
});

Deno.test("patterns that can match nothing are dropped", () => {
  assert.deepEqual(patterns(rules("!\n/\n!/\n")), []);
  assert.equal(lineFor(rules("a//\n"), "a", true), 0);
});
