import assert from "node:assert/strict";
import { wildmatch } from "./wildmatch.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

/** Asserts `pattern` matches each of `yes` and none of `no`, in path mode unless told. */
function check(pattern: string, yes: string[], no: string[], pathname = true): void {
  for (const t of yes) assert.equal(wildmatch(bytes(pattern), bytes(t), pathname), true, t);
  for (const t of no) assert.equal(wildmatch(bytes(pattern), bytes(t), pathname), false, t);
}

Deno.test("? matches one byte, never a slash in path mode", () => {
  check("a?c", ["abc", "a.c", "a c"], ["ac", "abbc", "a/c"]);
  check("a?c", ["a/c"], [], false);
  check("?", [], ["é"]); // two bytes in UTF-8
  check("??", ["é"], []);
});

Deno.test("* matches within a segment in path mode, anything without it", () => {
  check("*.log", ["x.log", ".log", "a.b.log"], ["x.log/y", "a/x.log", "x.txt"]);
  check("a/*", ["a/b", "a/"], ["a/b/c", "a"]);
  check("*/b", ["a/b", "/b"], ["a/c/b", "b"]);
  check("*", ["a/b/c"], [], false);
});

Deno.test("** crosses folders only as a whole segment", () => {
  check("**/b", ["b", "a/b", "a/x/b"], ["a/xb", "ab"]);
  check("a/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["a/xb", "ab", "b"]);
  check("a/**", ["a/x", "a/x/y"], ["a", "b/x"]);
  check("**", ["a", "a/b/c"], []);
  check("a**b", ["ab", "axyb"], ["ax/yb"]);
  check("a/**b", ["a/b", "a/xb"], ["a/x/b"]);
  check("***/b", ["x/y/b"], []);
});

Deno.test("[...] is a byte class with ranges, negation, escapes and POSIX names", () => {
  check("[a-c]x", ["ax", "bx", "cx"], ["dx", "x", "Ax"]);
  check("[!a-c]x", ["dx", "-x"], ["ax", "cx"]);
  check("[^a-c]x", ["dx"], ["bx"]);
  check("[]a]", ["]", "a"], ["b"]);
  check("[!]]", ["a"], ["]"]);
  check("[a-]", ["a", "-"], ["b"]);
  check("[\\]]", ["]"], ["\\"]);
  check("[\\a-c]", ["b"], ["d"]);
  check("[[:digit:]][[:alpha:]]", ["1a", "9Z"], ["a1", "11"]);
  check("[[:space:]]", [" ", "\t", "\r"], ["\v", "a"]);
  check("[[:punct:]]", ["!", "_", "~"], ["a", "1", " "]);
  check("[[:xdigit:]][[:upper:]][[:lower:]]", ["fAb"], ["gAb", "faB"]);
  check("[[:x]", ["[", ":", "x"], ["a", "]"]); // no ":]": "[", ":" and "x" are plain members
});

Deno.test("a class never matches a slash in path mode", () => {
  check("a[/]b", [], ["a/b"]);
  check("a[!x]b", ["a.b"], ["a/b"]);
  check("a[/]b", ["a/b"], [], false);
});

Deno.test("an unclosed class or an unknown POSIX name makes the pattern match nothing", () => {
  check("[abc", [], ["[abc", "a"]);
  check("*[", [], ["x[", "["]);
  check("[[:bogus:]]", [], ["b", "[[:bogus:]]"]);
  check("[[:alpha:]", [], ["a", "]"]); // the named class closes, the outer one never does
});

Deno.test("a backslash makes the next byte literal; a lone one at the end matches nothing", () => {
  check("\\*", ["*"], ["x", "\\*"]);
  check("x\\?y", ["x?y"], ["xay"]);
  check("\\#x", ["#x"], ["\\#x"]);
  check("a\\", [], ["a", "a\\"]);
  check("a\\\\", ["a\\"], ["a"]);
});
