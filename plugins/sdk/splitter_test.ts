import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { chunkLengths, LimitSplitter } from "./splitter.ts";

Deno.test("LimitSplitter cuts only every limit bytes, in chunks that own their buffers", () => {
  const s = new LimitSplitter(10);
  const out = [...s.push(new Uint8Array(7).fill(1)), ...s.push(new Uint8Array(18).fill(2))];
  out.push(...s.finish());
  assert.deepEqual(out.map((c) => c.length), [10, 10, 5]);
  assert.ok(out.every((c) => c.byteOffset === 0 && c.byteLength === c.buffer.byteLength));
  assert.deepEqual([...out[0]], [1, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
  assert.deepEqual(s.finish(), [], "finish resets for the next file");
  assert.throws(() => new LimitSplitter(0), RangeError);
});

Deno.test("chunkLengths() gives the lengths a splitter cuts a file into", async () => {
  const dir = await Deno.makeTempDir();
  fs.writeFileSync(join(dir, "f"), new Uint8Array(25));
  fs.writeFileSync(join(dir, "empty"), "");
  assert.deepEqual(chunkLengths(join(dir, "f"), new LimitSplitter(10)), [10, 10, 5]);
  assert.deepEqual(chunkLengths(join(dir, "empty"), new LimitSplitter(10)), []);
  assert.throws(() => chunkLengths(join(dir, "missing"), new LimitSplitter(10)), /ENOENT/);
});
