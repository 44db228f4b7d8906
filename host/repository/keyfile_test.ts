import assert from "node:assert/strict";
import { sha256Hex } from "../crypto/hash.ts";
import { FormatError, WrongPassphrase } from "./errors.ts";
import {
  decodeKeyExport,
  encodeKeyExport,
  readKeyFileInfo,
  unwrapKeyFile,
  wrapKeyFile,
  wrapKeyFileV1,
} from "./keyfile.ts";
import { generateMasterKeys, toIngestKeys } from "./keys.ts";

const fast = { opslimit: 1, memlimit: 8 * 1024 * 1024 };
const repoId = "ab".repeat(32);
const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("unwrapKeyFile() with the right passphrase returns the wrapped keys", async () => {
  const keys = await generateMasterKeys();
  const file = await wrapKeyFile(keys, "correct horse", repoId, fast);
  assert.deepEqual(await unwrapKeyFile(file, "correct horse", { repository: repoId }), keys);
});

Deno.test("unwrapKeyFile() with a wrong passphrase throws WrongPassphrase naming the key id", async () => {
  const file = await wrapKeyFile(await generateMasterKeys(), "correct horse", repoId, fast);
  await assert.rejects(() => unwrapKeyFile(file, "wrong horse"), {
    name: "WrongPassphrase",
    message: `the passphrase does not open key "${sha256Hex(file)}"`,
  });
  await assert.rejects(() => unwrapKeyFile(file, "wrong", { name: "keys/x" }), {
    name: "WrongPassphrase",
    message: 'the passphrase does not open key "keys/x"',
  });
});

Deno.test("wrapKeyFile() stores the version, kind, repository and KDF parameters in a readable header", async () => {
  const salt = new Uint8Array(16).fill(3);
  const file = await wrapKeyFile(await generateMasterKeys(), "pw", repoId, { ...fast, salt }, {
    created: "2025-01-02T03:04:05.000Z",
  });
  const json = JSON.parse(dec.decode(file));
  assert.deepEqual(Object.keys(json), ["version", "kind", "repository", "created", "kdf", "data"]);
  assert.equal(json.version, 2);
  assert.equal(json.repository, repoId);
  assert.deepEqual(json.kdf, {
    name: "argon2id13",
    salt: salt.toBase64(),
    opslimit: 1,
    memlimit: 8 * 1024 * 1024,
  });
  const info = readKeyFileInfo(file);
  assert.equal(info.version, 2);
  assert.equal(info.repository, repoId);
  assert.equal(info.kind, "master");
  assert.equal(info.created, "2025-01-02T03:04:05.000Z");
  assert.deepEqual(info.kdf.salt, salt);
  assert.ok(!dec.decode(file).includes("privateKey"));
});

Deno.test("a wrapped ingest key unwraps to an ingest key without a private key", async () => {
  const keys = toIngestKeys(await generateMasterKeys());
  const back = await unwrapKeyFile(await wrapKeyFile(keys, "pw", repoId, fast), "pw");
  assert.equal(back.role, "ingest");
  assert.ok(!("privateKey" in back));
  assert.deepEqual(back, keys);
});

Deno.test("unwrapKeyFile() of malformed JSON or an unknown version throws FormatError", async () => {
  await assert.rejects(() => unwrapKeyFile(enc.encode("{"), "pw"), FormatError);
  const file = await wrapKeyFile(await generateMasterKeys(), "pw", repoId, fast);
  const json = JSON.parse(dec.decode(file));
  await assert.rejects(
    () => unwrapKeyFile(enc.encode(JSON.stringify({ ...json, version: 3 })), "pw"),
    FormatError,
  );
  // Version 1 has no "repository" field, version 2 must have one.
  await assert.rejects(
    () => unwrapKeyFile(enc.encode(JSON.stringify({ ...json, version: 1 })), "pw"),
    FormatError,
  );
  const { repository: _, ...unnamed } = json;
  await assert.rejects(() => unwrapKeyFile(enc.encode(JSON.stringify(unnamed)), "pw"), FormatError);
  await assert.rejects(
    () => unwrapKeyFile(enc.encode(JSON.stringify({ ...json, extra: 1 })), "pw"),
    FormatError,
  );
});

Deno.test("unwrapKeyFile() refuses a header whose kind was changed to ingest", async () => {
  const file = await wrapKeyFile(await generateMasterKeys(), "pw", repoId, fast);
  const json = JSON.parse(dec.decode(file));
  const forged = enc.encode(JSON.stringify({ ...json, kind: "ingest" }));
  await assert.rejects(() => unwrapKeyFile(forged, "pw"), FormatError);
});

Deno.test("unwrapKeyFile() refuses a key file demanding more than 2 GiB of KDF memory", async () => {
  const file = await wrapKeyFile(await generateMasterKeys(), "pw", repoId, fast);
  const json = JSON.parse(dec.decode(file));
  json.kdf.memlimit = 8 * 1024 ** 3;
  await assert.rejects(() => unwrapKeyFile(enc.encode(JSON.stringify(json)), "pw"), FormatError);
});

Deno.test("unwrapKeyFile() refuses a version 2 key object of another repository before deriving a key", async () => {
  const file = await wrapKeyFile(await generateMasterKeys(), "pw", repoId, fast);
  const other = "cd".repeat(32);
  // ForeignKey, not WrongPassphrase, whatever the passphrase: the header says it all.
  for (const passphrase of ["pw", "not it"]) {
    await assert.rejects(
      () => unwrapKeyFile(file, passphrase, { name: "keys/x", repository: other }),
      {
        name: "ForeignKey",
        message:
          'key object "keys/x" belongs to repository "abababab", not to this one ("cdcdcdcd")',
      },
    );
  }
});

Deno.test("a version 2 key object whose repository was rewritten in its header does not open", async () => {
  const file = await wrapKeyFile(await generateMasterKeys(), "pw", repoId, fast);
  const other = "cd".repeat(32);
  const json = JSON.parse(dec.decode(file));
  const moved = enc.encode(JSON.stringify({ ...json, repository: other }));
  // The seal authenticates the repository: the forged header fails as a wrong passphrase does.
  await assert.rejects(() => unwrapKeyFile(moved, "pw", { repository: other }), WrongPassphrase);
});

Deno.test("a version 2 key object rewritten as version 1 (unbound) does not open", async () => {
  const file = await wrapKeyFile(await generateMasterKeys(), "pw", repoId, fast);
  const { repository: _bound, ...json } = JSON.parse(dec.decode(file));
  const downgraded = enc.encode(JSON.stringify({ ...json, version: 1 }));
  assert.equal(readKeyFileInfo(downgraded).version, 1, "a well-formed version 1 header");
  // The seal's additional data names the version and the repository (format §4.1).
  for (const repository of [repoId, "cd".repeat(32), undefined]) {
    await assert.rejects(() => unwrapKeyFile(downgraded, "pw", { repository }), WrongPassphrase);
  }
});

Deno.test("a version 1 key object still opens, for whichever repository holds it", async () => {
  const keys = await generateMasterKeys();
  const file = await wrapKeyFileV1(keys, "pw", fast);
  const json = JSON.parse(dec.decode(file));
  assert.deepEqual(Object.keys(json), ["version", "kind", "created", "kdf", "data"]);
  assert.equal(json.version, 1);
  assert.equal(readKeyFileInfo(file).repository, undefined);
  assert.deepEqual(await unwrapKeyFile(file, "pw", { repository: repoId }), keys);
  await assert.rejects(() => unwrapKeyFile(file, "not it"), WrongPassphrase);
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
