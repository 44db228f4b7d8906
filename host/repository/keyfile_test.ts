import assert from "node:assert/strict";
import { sha256Hex } from "../crypto/hash.ts";
import { FormatError, WrongPassphrase } from "./errors.ts";
import {
  decodeKeyExport,
  encodeKeyExport,
  readKeyFileInfo,
  unwrapKeyFile,
  wrapKeyFile,
} from "./keyfile.ts";
import { generateMasterKeys, toIngestKeys } from "./keys.ts";

const fast = { opslimit: 1, memlimit: 8 * 1024 * 1024 };
const repoId = "ab".repeat(32);
const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("unwrapKeyFile() with the right passphrase returns the wrapped keys", async () => {
  const keys = await generateMasterKeys();
  const file = await wrapKeyFile(keys, "correct horse", fast);
  assert.deepEqual(await unwrapKeyFile(file, "correct horse"), keys);
});

Deno.test("unwrapKeyFile() with a wrong passphrase throws WrongPassphrase naming the key id", async () => {
  const file = await wrapKeyFile(await generateMasterKeys(), "correct horse", fast);
  await assert.rejects(() => unwrapKeyFile(file, "wrong horse"), {
    name: "WrongPassphrase",
    message: `the passphrase does not open key "${sha256Hex(file)}"`,
  });
  await assert.rejects(() => unwrapKeyFile(file, "wrong", "file"), WrongPassphrase);
});

Deno.test("wrapKeyFile() stores the KDF parameters and kind in a readable header", async () => {
  const salt = new Uint8Array(16).fill(3);
  const file = await wrapKeyFile(await generateMasterKeys(), "pw", { ...fast, salt }, {
    created: "2025-01-02T03:04:05.000Z",
  });
  const json = JSON.parse(dec.decode(file));
  assert.deepEqual(Object.keys(json), ["version", "kind", "created", "kdf", "data"]);
  assert.deepEqual(json.kdf, {
    name: "argon2id13",
    salt: salt.toBase64(),
    opslimit: 1,
    memlimit: 8 * 1024 * 1024,
  });
  const info = readKeyFileInfo(file);
  assert.equal(info.kind, "master");
  assert.equal(info.created, "2025-01-02T03:04:05.000Z");
  assert.deepEqual(info.kdf.salt, salt);
  assert.ok(!dec.decode(file).includes("privateKey"));
});

Deno.test("a wrapped ingest key unwraps to an ingest key without a private key", async () => {
  const keys = toIngestKeys(await generateMasterKeys());
  const back = await unwrapKeyFile(await wrapKeyFile(keys, "pw", fast), "pw");
  assert.equal(back.role, "ingest");
  assert.ok(!("privateKey" in back));
  assert.deepEqual(back, keys);
});

Deno.test("unwrapKeyFile() of malformed JSON or an unknown version throws FormatError", async () => {
  await assert.rejects(() => unwrapKeyFile(enc.encode("{"), "pw"), FormatError);
  const file = await wrapKeyFile(await generateMasterKeys(), "pw", fast);
  const json = JSON.parse(dec.decode(file));
  await assert.rejects(
    () => unwrapKeyFile(enc.encode(JSON.stringify({ ...json, version: 2 })), "pw"),
    FormatError,
  );
  await assert.rejects(
    () => unwrapKeyFile(enc.encode(JSON.stringify({ ...json, extra: 1 })), "pw"),
    FormatError,
  );
});

Deno.test("unwrapKeyFile() refuses a header whose kind was changed to ingest", async () => {
  const file = await wrapKeyFile(await generateMasterKeys(), "pw", fast);
  const json = JSON.parse(dec.decode(file));
  const forged = enc.encode(JSON.stringify({ ...json, kind: "ingest" }));
  await assert.rejects(() => unwrapKeyFile(forged, "pw"), FormatError);
});

Deno.test("unwrapKeyFile() refuses a key file demanding more than 2 GiB of KDF memory", async () => {
  const file = await wrapKeyFile(await generateMasterKeys(), "pw", fast);
  const json = JSON.parse(dec.decode(file));
  json.kdf.memlimit = 8 * 1024 ** 3;
  await assert.rejects(() => unwrapKeyFile(enc.encode(JSON.stringify(json)), "pw"), FormatError);
});

Deno.test("decodeKeyExport() returns the keys and repository id encodeKeyExport() wrote", async () => {
  const keys = await generateMasterKeys();
  const master = decodeKeyExport(encodeKeyExport(keys, repoId));
  assert.deepEqual(master, { repoId, keys });
  const ingest = decodeKeyExport(encodeKeyExport(toIngestKeys(keys), repoId));
  assert.deepEqual(ingest.keys, toIngestKeys(keys));
});

Deno.test("an ingest key export has no privateKey field at all", async () => {
  const bytes = encodeKeyExport(toIngestKeys(await generateMasterKeys()), repoId);
  const json = JSON.parse(dec.decode(bytes));
  assert.equal(json.kind, "ingest");
  assert.deepEqual(Object.keys(json.keys), ["publicKey", "macKey", "indexKey", "chunkerKey"]);
  assert.ok(!dec.decode(bytes).includes("privateKey"));
});

Deno.test("decodeKeyExport() of an ingest file carrying a privateKey throws FormatError", async () => {
  const json = JSON.parse(dec.decode(encodeKeyExport(await generateMasterKeys(), repoId)));
  json.kind = "ingest";
  assert.throws(() => decodeKeyExport(enc.encode(JSON.stringify(json))), {
    name: "FormatError",
    message: /privateKey/,
  });
});

Deno.test("decodeKeyExport() of a master file without its private key throws FormatError", async () => {
  const json = JSON.parse(dec.decode(encodeKeyExport(await generateMasterKeys(), repoId)));
  delete json.keys.privateKey;
  assert.throws(() => decodeKeyExport(enc.encode(JSON.stringify(json))), FormatError);
  assert.throws(() => decodeKeyExport(enc.encode("[]")), FormatError);
});
