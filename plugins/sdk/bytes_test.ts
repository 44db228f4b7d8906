import assert from "node:assert/strict";
import { release } from "./bytes.ts";

Deno.test("release() frees a view that owns its whole buffer", () => {
  const owned = new Uint8Array(1 << 20).fill(1);
  release(owned);
  assert.equal(owned.buffer.byteLength, 0);
  assert.equal(owned.length, 0);
});

Deno.test("release() leaves a view into a larger buffer, and a freed one, alone", () => {
  const whole = new Uint8Array(100).fill(2);
  const part = whole.subarray(10, 20);
  release(part);
  assert.equal(whole.length, 100);
  assert.equal(part.length, 10);
  release(whole);
  release(whole); // already detached: no error
  assert.equal(whole.length, 0);
});
