import assert from "node:assert/strict";
import { KeyCannotRead } from "../../plugins/sdk/errors.ts";
import { publicKeyOf } from "../crypto/sealed_box.ts";
import { FormatError } from "./errors.ts";
import { checkKeys, generateMasterKeys, requirePrivateKey, toIngestKeys } from "./keys.ts";

Deno.test("generateMasterKeys() makes a matching X25519 pair and distinct 32-byte keys", async () => {
  const k = await generateMasterKeys();
  assert.equal(k.role, "master");
  assert.deepEqual(publicKeyOf(k.privateKey!), k.publicKey);
  const all = [k.publicKey, k.privateKey!, k.macKey, k.indexKey, k.chunkerKey];
  for (const v of all) assert.equal(v.length, 32);
  assert.equal(new Set(all.map((v) => v.toHex())).size, 5);
  assert.notDeepEqual((await generateMasterKeys()).macKey, k.macKey);
});

Deno.test("toIngestKeys() drops the private key entirely and keeps the rest", async () => {
  const k = await generateMasterKeys();
  const i = toIngestKeys(k);
  assert.equal(i.role, "ingest");
  assert.ok(!("privateKey" in i));
  assert.deepEqual(i.macKey, k.macKey);
  assert.deepEqual(i.indexKey, k.indexKey);
  assert.deepEqual(i.chunkerKey, k.chunkerKey);
  assert.deepEqual(i.publicKey, k.publicKey);
  checkKeys(i, "ingest key");
});

Deno.test("requirePrivateKey() with an ingest key throws KeyCannotRead naming what was asked", async () => {
  const k = await generateMasterKeys();
  assert.deepEqual(requirePrivateKey(k, "trees"), k.privateKey);
  assert.throws(() => requirePrivateKey(toIngestKeys(k), "trees"), {
    name: "KeyCannotRead",
    message: "this key cannot read trees: it is an ingest (put-only) key; " +
      "use the repository passphrase or a full key file",
  });
  assert.throws(() => requirePrivateKey(toIngestKeys(k), "x"), KeyCannotRead);
});

Deno.test("checkKeys() refuses a master key whose public key is not its private key's", async () => {
  const k = await generateMasterKeys();
  const other = await generateMasterKeys();
  assert.throws(() => checkKeys({ ...k, publicKey: other.publicKey }, "k"), FormatError);
  assert.throws(() => checkKeys({ ...k, macKey: new Uint8Array(31) }, "k"), FormatError);
  assert.throws(() => checkKeys({ ...toIngestKeys(k), role: "master" }, "k"), FormatError);
  assert.throws(() => checkKeys({ ...k, role: "ingest" }, "k"), FormatError);
});
