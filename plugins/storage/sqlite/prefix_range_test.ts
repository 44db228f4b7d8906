import assert from "node:assert/strict";
import { prefixEnd } from "./prefix_range.ts";

Deno.test("prefixEnd() raises the last character by one", () => {
  assert.equal(prefixEnd("packs/"), "packs0");
  assert.equal(prefixEnd("packs/ab"), "packs/ac");
  assert.equal(prefixEnd("a%"), "a&");
  assert.equal(prefixEnd("a_"), "a`");
});

Deno.test("prefixEnd() steps over surrogates and past U+10FFFF", () => {
  assert.equal(prefixEnd("x\u{d7ff}"), "x\u{e000}");
  assert.equal(prefixEnd("x\u{1f600}"), "x\u{1f601}");
  assert.equal(prefixEnd("x\u{10ffff}"), "y");
  assert.equal(prefixEnd("\u{10ffff}\u{10ffff}"), null);
  assert.equal(prefixEnd(""), null);
});

Deno.test("every name with the prefix sorts between the prefix and prefixEnd(), in UTF-8 order", () => {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const cmp = (a: string, b: string) => {
    const [x, y] = [utf8(a), utf8(b)];
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  };
  const prefixes = ["a", "a\u{ffff}", "\u{d7ff}", "é", "\u{1f600}"];
  const tails = ["", "\0", "z", "\u{ffff}", "\u{10ffff}", "\u{10ffff}\u{10ffff}"];
  for (const p of prefixes) {
    const end = prefixEnd(p)!;
    for (const t of tails) assert.ok(cmp(p + t, end) < 0, `${p}${t}`);
    assert.ok(cmp(p, end) < 0);
  }
});

Deno.test("prefixEnd() refuses a prefix that is not well-formed text", () => {
  assert.throws(() => prefixEnd("a\u{d800}"), TypeError);
});
