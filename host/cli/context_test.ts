import assert from "node:assert/strict";
import { grouped, plural } from "./context.ts";

Deno.test("grouped writes numbers with thousands separators as toLocaleString does", () => {
  const numbers = [0, 7, 999, 1000, 12_345, 123_456, 1_234_567, -1, -1234, 2 ** 53 - 1, 1.5, NaN];
  for (const n of numbers) assert.equal(grouped(n), n.toLocaleString("en-US"), `${n}`);
});

Deno.test("plural groups the count and picks the noun", () => {
  assert.equal(plural(56_352, "file"), "56,352 files");
  assert.equal(plural(1, "entry", "entries"), "1 entry");
});
