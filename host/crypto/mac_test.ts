import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { blobId } from "./mac.ts";

Deno.test("blobId() is the lowercase hex HMAC-SHA-256 that WebCrypto computes", async () => {
  const macKey = new Uint8Array(32).map((_, i) => i);
  const data = new TextEncoder().encode("some file content");
  const k = await crypto.subtle.importKey("raw", macKey, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const expected = new Uint8Array(await crypto.subtle.sign("HMAC", k, data)).toHex();
  assert.equal(blobId(macKey, data), expected);
  assert.match(blobId(macKey, data), /^[0-9a-f]{64}$/);
});

Deno.test("blobId() depends on the MAC key", () => {
  const data = new Uint8Array(100);
  assert.notEqual(blobId(new Uint8Array(32), data), blobId(new Uint8Array(32).fill(1), data));
});

Deno.test("blobId() with a key that is not 32 bytes throws RangeError", () => {
  assert.throws(() => blobId(new Uint8Array(31), new Uint8Array(1)), RangeError);
});

Deno.test("blobId() equals createHmac() for every length around SHA-256's block and pad sizes", () => {
  const macKey = new Uint8Array(32).map((_, i) => 255 - i);
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 4096, 100_000]) {
    const data = new Uint8Array(n).map((_, i) => (i * 31) & 255);
    assert.equal(blobId(macKey, data), createHmac("sha256", macKey).update(data).digest("hex"));
  }
});

Deno.test("blobId() follows a change of key, also when the caller reuses the key's array", () => {
  const data = new TextEncoder().encode("same content");
  const key = new Uint8Array(32).fill(1);
  const first = blobId(key, data);
  key.fill(2);
  assert.equal(blobId(key, data), createHmac("sha256", key).update(data).digest("hex"));
  assert.notEqual(blobId(key, data), first);
  assert.equal(blobId(new Uint8Array(32).fill(1), data), first);
});

Deno.test("blobId() follows a change of key made in place in a Buffer, whose slice() is a view", () => {
  const data = new TextEncoder().encode("same content");
  const key = Buffer.alloc(32, 1);
  blobId(key, data);
  key.fill(2);
  assert.equal(blobId(key, data), createHmac("sha256", key).update(data).digest("hex"));
});
