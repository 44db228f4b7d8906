import assert from "node:assert/strict";
import {
  checkKdfParams,
  DEFAULT_MEMLIMIT,
  DEFAULT_OPSLIMIT,
  deriveKey,
  type KdfParams,
  newKdfParams,
} from "./kdf.ts";

const small = (salt = new Uint8Array(16)): KdfParams => ({ salt, opslimit: 1, memlimit: 8 << 20 });

Deno.test("deriveKey() is deterministic for one passphrase and salt", async () => {
  const a = await deriveKey("correct horse", small());
  assert.equal(a.length, 32);
  assert.deepEqual(a, await deriveKey("correct horse", small()));
});

Deno.test("deriveKey() differs for another passphrase, salt or cost", async () => {
  const base = await deriveKey("correct horse", small());
  assert.notDeepEqual(base, await deriveKey("correct horsf", small()));
  assert.notDeepEqual(base, await deriveKey("correct horse", small(new Uint8Array(16).fill(1))));
  assert.notDeepEqual(base, await deriveKey("correct horse", { ...small(), opslimit: 2 }));
});

Deno.test("deriveKey() treats composed and decomposed Unicode passphrases alike (NFC)", async () => {
  assert.deepEqual(await deriveKey("caf\u00e9", small()), await deriveKey("cafe\u0301", small()));
});

Deno.test("newKdfParams() defaults to opslimit 4, 64 MiB and a random 16-byte salt", () => {
  const a = newKdfParams();
  assert.equal(a.opslimit, DEFAULT_OPSLIMIT);
  assert.equal(a.memlimit, DEFAULT_MEMLIMIT);
  assert.equal(a.opslimit, 4);
  assert.equal(a.memlimit, 64 * 1024 * 1024);
  assert.equal(a.salt.length, 16);
  assert.notDeepEqual(a.salt, newKdfParams().salt);
});

Deno.test("checkKdfParams() refuses out-of-range costs and salts", () => {
  assert.throws(() => checkKdfParams({ ...small(), opslimit: 0 }), RangeError);
  assert.throws(() => checkKdfParams({ ...small(), opslimit: 65 }), RangeError);
  assert.throws(() => checkKdfParams({ ...small(), memlimit: 4096 }), RangeError);
  assert.throws(() => checkKdfParams({ ...small(), memlimit: 4 * 1024 ** 3 }), RangeError);
  assert.throws(() => checkKdfParams({ ...small(), memlimit: 8 * 1024 * 1024 + 1 }), RangeError);
  assert.throws(() => checkKdfParams(small(new Uint8Array(8))), RangeError);
});

Deno.test("deriveKey() in its worker gives the same key as deriveKeyHere() in this thread", async () => {
  const { deriveKeyHere } = await import("./kdf.ts");
  const params = { salt: new Uint8Array(16).fill(5), opslimit: 1, memlimit: 8 << 20 };
  assert.deepEqual(await deriveKey("pässword", params), await deriveKeyHere("pässword", params));
});
