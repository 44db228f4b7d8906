import assert from "node:assert/strict";
import { parseSize, readSize } from "./size.ts";

Deno.test("parseSize() reads binary and decimal units, any case, and plain bytes", () => {
  assert.equal(parseSize("4096"), 4096);
  assert.equal(parseSize("64MiB"), 64 * 2 ** 20);
  assert.equal(parseSize("1TiB"), 2 ** 40);
  assert.equal(parseSize("1.5 GiB"), 1.5 * 2 ** 30);
  assert.equal(parseSize("500GB"), 500e9);
  assert.equal(parseSize("1tb"), 1e12);
  assert.equal(parseSize("128kib"), 128 * 1024);
});

Deno.test("parseSize() refuses what is not a size, naming the units it knows", () => {
  for (const bad of ["", "MiB", "-1MiB", "1XB", "1 2"]) {
    assert.throws(() => parseSize(bad), { name: "TypeError", message: /KiB, MiB, GiB, TiB/ });
  }
});

Deno.test("readSize() answers undefined for what is not a size, for callers' own messages", () => {
  assert.equal(readSize("2 KiB"), 2048);
  for (const bad of ["", "MiB", "-1MiB", "1XB", "1 2"]) assert.equal(readSize(bad), undefined);
});
