import assert from "node:assert/strict";
import { AEAD_OVERHEAD, aeadOpen, aeadSeal } from "./aead.ts";
import { IntegrityError } from "./errors.ts";

const key = new Uint8Array(32).fill(7);
const text = new TextEncoder().encode("a frame of several small blobs");
const aad = new TextEncoder().encode("PFFR");

Deno.test("aeadSeal() output is nonce || ciphertext || tag and aeadOpen() returns the plaintext", () => {
  const sealed = aeadSeal(key, text, aad);
  assert.equal(sealed.length, text.length + AEAD_OVERHEAD);
  assert.notDeepEqual(sealed.subarray(12, 12 + text.length), text);
  assert.deepEqual(aeadOpen(key, sealed, aad), text);
});

Deno.test("aeadSeal() uses a fresh nonce each call unless one is fixed", () => {
  assert.notDeepEqual(aeadSeal(key, text).subarray(0, 12), aeadSeal(key, text).subarray(0, 12));
  const nonce = new Uint8Array(12).fill(1);
  const a = aeadSeal(key, text, aad, nonce);
  assert.deepEqual(a, aeadSeal(key, text, aad, nonce));
  assert.deepEqual(a.subarray(0, 12), nonce);
});

Deno.test("aeadOpen() of altered bytes, another aad or another key throws IntegrityError", () => {
  const sealed = aeadSeal(key, text, aad);
  for (const i of [0, 12, sealed.length - 1]) {
    const bad = sealed.slice();
    bad[i] ^= 1;
    assert.throws(() => aeadOpen(key, bad, aad), IntegrityError);
  }
  assert.throws(() => aeadOpen(key, sealed), IntegrityError);
  assert.throws(() => aeadOpen(new Uint8Array(32), sealed, aad), IntegrityError);
});

Deno.test("aeadOpen() of input shorter than nonce and tag throws IntegrityError", () => {
  assert.throws(() => aeadOpen(key, new Uint8Array(27)), IntegrityError);
});

Deno.test("aeadSeal() of an empty plaintext opens to an empty plaintext", () => {
  const sealed = aeadSeal(key, new Uint8Array(0));
  assert.equal(sealed.length, AEAD_OVERHEAD);
  assert.equal(aeadOpen(key, sealed).length, 0);
});

Deno.test("aeadSeal() with a key that is not 32 bytes throws RangeError", () => {
  assert.throws(() => aeadSeal(new Uint8Array(16), text), RangeError);
});

Deno.test("aeadSealAsync() and aeadSeal() produce the same bytes, and each opens the other's", async () => {
  const { aeadOpenAsync, aeadSealAsync } = await import("./aead.ts");
  const key = new Uint8Array(32).map((_, i) => i);
  const nonce = new Uint8Array(12).fill(9);
  const aad = new TextEncoder().encode("PFFR");
  const plain = new TextEncoder().encode("frame bytes ".repeat(1000));
  const a = aeadSeal(key, plain, aad, nonce);
  const b = await aeadSealAsync(key, plain, aad, nonce);
  assert.deepEqual(b, a);
  assert.deepEqual(await aeadOpenAsync(key, a, aad), plain);
  assert.deepEqual(aeadOpen(key, await aeadSealAsync(key, plain, aad), aad), plain);
});

Deno.test("aeadOpenAsync() of altered bytes, another aad or a short input throws IntegrityError", async () => {
  const { aeadOpenAsync, aeadSealAsync } = await import("./aead.ts");
  const key = new Uint8Array(32).fill(1);
  const sealed = await aeadSealAsync(key, new Uint8Array(100), new Uint8Array([1]));
  const altered = sealed.slice();
  altered[20] ^= 1;
  for (
    const [bytes, aad] of [[altered, new Uint8Array([1])], [sealed, new Uint8Array([2])], [
      sealed.subarray(0, 10),
      new Uint8Array([1]),
    ]]
  ) {
    await assert.rejects(aeadOpenAsync(key, bytes, aad), (e: Error) => e.name === "IntegrityError");
  }
});
