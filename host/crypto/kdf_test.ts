import assert from "node:assert/strict";
import {
  checkKdfParams,
  DEFAULT_MEMLIMIT,
  DEFAULT_OPSLIMIT,
  deriveKey,
  deriveKeyHere,
  deriveKeyInWorker,
  deriveKeyNative,
  type KdfParams,
  MAX_NEW_MEMLIMIT,
  nativeArgon2,
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

Deno.test("newKdfParams() refuses more than 1 GiB, which libsodium's fallback cannot derive", () => {
  assert.equal(newKdfParams({ memlimit: MAX_NEW_MEMLIMIT }).memlimit, MAX_NEW_MEMLIMIT);
  assert.throws(() => newKdfParams({ memlimit: MAX_NEW_MEMLIMIT + 1024 }), /over .* \(1 GiB\)/);
  assert.throws(() => newKdfParams({ memlimit: 2 * 1024 * 1024 * 1024 }), RangeError);
});

Deno.test("checkKdfParams() refuses out-of-range costs and salts", () => {
  assert.throws(() => checkKdfParams({ ...small(), opslimit: 0 }), RangeError);
  assert.throws(() => checkKdfParams({ ...small(), opslimit: 65 }), RangeError);
  assert.throws(() => checkKdfParams({ ...small(), memlimit: 4096 }), RangeError);
  assert.throws(() => checkKdfParams({ ...small(), memlimit: 4 * 1024 ** 3 }), RangeError);
  assert.throws(() => checkKdfParams({ ...small(), memlimit: 8 * 1024 * 1024 + 1 }), RangeError);
  assert.throws(() => checkKdfParams(small(new Uint8Array(8))), RangeError);
});

Deno.test("deriveKeyInWorker() gives the same key as deriveKeyHere() in this thread", async () => {
  const params = { salt: new Uint8Array(16).fill(5), opslimit: 1, memlimit: 8 << 20 };
  assert.deepEqual(
    await deriveKeyInWorker("pässword", params),
    await deriveKeyHere("pässword", params),
  );
});

Deno.test("the native Argon2id gives libsodium's key for every cost, salt and passphrase tried", async () => {
  const native = await nativeArgon2();
  assert.ok(native, "the @node-rs/argon2 addon should load on this platform");
  const cases: [string, KdfParams][] = [
    ["pässword", { salt: new Uint8Array(16).fill(5), opslimit: 1, memlimit: 8 << 20 }],
    ["", { salt: new Uint8Array(16), opslimit: 2, memlimit: 8 * 1024 }],
    ["Ångström \u{1F511}", {
      salt: new Uint8Array(16).map((_, i) => i * 17),
      opslimit: 3,
      memlimit: 1 << 20,
    }],
    ["correct horse", { salt: new Uint8Array(16).fill(255), opslimit: 4, memlimit: 3 << 20 }],
  ];
  for (const [passphrase, params] of cases) {
    assert.deepEqual(
      await deriveKeyNative(native, passphrase, params),
      await deriveKeyHere(passphrase, params),
      `${JSON.stringify(passphrase)} opslimit ${params.opslimit} memlimit ${params.memlimit}`,
    );
  }
  // deriveKey takes the native path here, and gives the same key too.
  const [passphrase, params] = cases[0];
  assert.deepEqual(await deriveKey(passphrase, params), await deriveKeyHere(passphrase, params));
});

Deno.test("deriveKey() falls back to libsodium where the native addon cannot load (no --allow-ffi)", async () => {
  const params = { salt: new Uint8Array(16).fill(5), opslimit: 1, memlimit: 8 << 20 };
  const script = `
    import { deriveKey, nativeArgon2 } from ${
    JSON.stringify(new URL("./kdf.ts", import.meta.url).href)
  };
    const native = (await nativeArgon2()) !== undefined;
    const key = await deriveKey("pässword", { salt: new Uint8Array(16).fill(5), opslimit: 1, memlimit: ${
    8 << 20
  } });
    console.log(JSON.stringify({ native, key: Array.from(key) }));
  `;
  const dir = await Deno.makeTempDir({ prefix: "kdf-fallback-" });
  const file = `${dir}/derive.ts`;
  await Deno.writeTextFile(file, script);
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", config, "--allow-read", "--allow-env", file],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const got = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(got.native, false);
  assert.deepEqual(new Uint8Array(got.key), await deriveKeyHere("pässword", params));
});
