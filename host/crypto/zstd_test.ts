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

Deno.test("compress() returns a plain array that owns exactly its bytes, at any size", () => {
  const random = new Uint8Array(300_000);
  for (let i = 0; i < random.length; i += 65_536) {
    crypto.getRandomValues(random.subarray(i, i + 65_536));
  }
  for (const n of [0, 1, 100, 5_000, 70_000, 300_000]) {
    for (const input of [text.subarray(0, Math.min(n, text.length)), random.subarray(0, n)]) {
      const out = compress(input);
      assert.equal(Object.getPrototypeOf(out), Uint8Array.prototype);
      assert.equal(out.buffer.byteLength, out.length, `${n} bytes in`);
      assert.deepEqual(decompress(out), input);
    }
  }
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
