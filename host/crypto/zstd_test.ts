import assert from "node:assert/strict";
import { IntegrityError } from "./errors.ts";
import { compress, decompress } from "./zstd.ts";

const text = new TextEncoder().encode("the same line again\n".repeat(1000));

Deno.test("compress() shrinks repetitive data and decompress() restores it", () => {
  const packed = compress(text);
  assert.ok(packed.length < text.length / 10);
  assert.deepEqual(decompress(packed), text);
  assert.deepEqual(decompress(compress(text, 19)), text);
});

Deno.test("decompress() returns a plain array that owns exactly its bytes", () => {
  const out = decompress(compress(new Uint8Array(10).fill(3)));
  assert.equal(Object.getPrototypeOf(out), Uint8Array.prototype);
  assert.equal(out.buffer.byteLength, 10);
});

Deno.test("decompress() of malformed data throws IntegrityError", () => {
  assert.throws(() => decompress(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), IntegrityError);
});

Deno.test("decompress() past maxLength throws IntegrityError", () => {
  assert.throws(() => decompress(compress(text), 100), IntegrityError);
});

Deno.test("compress() with a level outside 1..22 throws RangeError", () => {
  assert.throws(() => compress(text, 0), RangeError);
  assert.throws(() => compress(text, 23), RangeError);
});
