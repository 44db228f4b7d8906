import assert from "node:assert/strict";
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
