/**
 * Key objects through the CLI (docs/format.md §4.1): what a user sees when a key object is
 * damaged, a key file is another repository's or the passphrase is wrong (each names the
 * object, the cause and what to do), and that `init` and `key passwd` leave only key objects
 * bound to the repository's config.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../host/crypto/hash.ts";
import { decodeConfig } from "../host/repository/config.ts";
import { readKeyFileInfo, wrapKeyFile, wrapKeyFileV1 } from "../host/repository/keyfile.ts";
import { generateMasterKeys } from "../host/repository/keys.ts";
import { cli, PASSWORD, reopen, tempDir, TEST_KDF } from "./helpers.ts";

/** A new repository made by `init` with a cheap key derivation; its folder and environment. */
async function initRepo(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = join(await tempDir(), "repo");
  const env = { PERMAFROST_REPO: dir };
  const init = await cli(["init", "--kdf-memlimit", "8MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  return { dir, env };
}

function keyNames(dir: string): string[] {
  return fs.readdirSync(join(dir, "keys")).map((n) => `keys/${n}`);
}

function configId(dir: string): string {
  return decodeConfig(fs.readFileSync(join(dir, "config"))).id;
}

function noStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
}

Deno.test("a damaged key object is named and called damaged, with what to do, and the passphrase is not blamed", async () => {
  const { dir, env } = await initRepo();
  const [name] = keyNames(dir);
  const path = join(dir, name);
  fs.chmodSync(path, 0o644);
  fs.writeFileSync(path, fs.readFileSync(path).subarray(0, 60));
  const r = await cli(["snapshots"], env);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(`"${name}" is not a valid key object (damaged`), r.stderr);
  assert.match(r.stderr, /Put back the copy of the repository's key object you kept/);
  assert.doesNotMatch(r.stderr, /PERMAFROST_PASSWORD|passphrase opens none/);
  noStackTrace(r.stderr);
});

Deno.test("a key file of another repository is named, with both repositories, and PERMAFROST_PASSWORD is not blamed", async () => {
  const a = await initRepo();
  const b = await initRepo();
  const keyFile = join(await tempDir(), "a.key");
  assert.equal((await cli(["key", "ingest", "--out", keyFile], a.env)).code, 0);
  const [idA, idB] = [configId(a.dir).slice(0, 8), configId(b.dir).slice(0, 8)];
  for (const how of ["flag", "env"]) {
    const r = how === "flag"
      ? await cli(["snapshots", "--key-file", keyFile], b.env)
      : await cli(["snapshots"], { ...b.env, PERMAFROST_KEY_FILE: keyFile });
    assert.equal(r.code, 1, how);
    assert.ok(
      r.stderr.includes(
        `the key file "${keyFile}" belongs to repository "${idA}", not to "${idB}", the ` +
          "repository at this location",
      ),
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, /PERMAFROST_PASSWORD/, how);
    noStackTrace(r.stderr);
  }
});

Deno.test("a wrong passphrase names the key object it was tried on and where it came from", async () => {
  const { dir, env } = await initRepo();
  const [name] = keyNames(dir);
  const fromEnv = await cli(["snapshots"], { ...env, PERMAFROST_PASSWORD: "not it" });
  assert.equal(fromEnv.code, 1);
  assert.ok(
    fromEnv.stderr.includes(
      `the passphrase opens none of the repository's key objects ("${name}")`,
    ),
    fromEnv.stderr,
  );
  assert.match(fromEnv.stderr, /\(tried the passphrase in PERMAFROST_PASSWORD\)/);
  const file = join(await tempDir(), "pass");
  fs.writeFileSync(file, "not it\n");
  const fromFile = await cli(["snapshots"], {
    ...env,
    PERMAFROST_PASSWORD: "",
    PERMAFROST_PASSWORD_FILE: file,
  });
  assert.equal(fromFile.code, 1);
  assert.ok(
    fromFile.stderr.includes(
      `(tried the passphrase in the file "${file}" (PERMAFROST_PASSWORD_FILE))`,
    ),
    fromFile.stderr,
  );
  noStackTrace(fromFile.stderr);
});

Deno.test("init run again after one killed between its key object and its config leaves one key object, bound to the config", async () => {
  const dir = join(await tempDir(), "repo");
  fs.mkdirSync(join(dir, "keys"), { recursive: true });
  // The half state, made directly: an older init's key object (version 1, same passphrase).
  const left = await wrapKeyFileV1(await generateMasterKeys(), PASSWORD, TEST_KDF);
  fs.writeFileSync(join(dir, "keys", sha256Hex(left)), left);
  const init = await cli(["init", "--kdf-memlimit", "8MiB"], { PERMAFROST_REPO: dir });
  assert.equal(init.code, 0, init.stderr);
  assert.match(
    init.stderr,
    /was left by an init that was interrupted or lost to this one; removed/,
  );
  const keys = keyNames(dir);
  assert.equal(keys.length, 1, keys.join(", "));
  const info = readKeyFileInfo(fs.readFileSync(join(dir, keys[0])));
  assert.equal(info.repository, configId(dir));
});

Deno.test("key passwd replaces a version 1 key object with a version 2 one bound to the config", async () => {
  const { dir, env } = await initRepo();
  const repo = await reopen(dir);
  const v1 = await wrapKeyFileV1(repo.keys, PASSWORD, TEST_KDF);
  await repo.storage.create(`keys/${sha256Hex(v1)}`, v1);
  await repo.storage.delete(repo.keyObject!);
  await repo.storage.close();
  const p = await cli(["key", "passwd", "--kdf-memlimit", "8MiB"], {
    ...env,
    PERMAFROST_NEW_PASSWORD: "new secret",
  });
  assert.equal(p.code, 0, p.stderr);
  const keys = keyNames(dir);
  assert.equal(keys.length, 1);
  const info = readKeyFileInfo(fs.readFileSync(join(dir, keys[0])));
  assert.deepEqual([info.version, info.repository], [2, configId(dir)]);
  const again = await reopen(dir, { passphrase: "new secret" });
  assert.equal(again.keyObject, keys[0]);
  await again.storage.close();
});

Deno.test("check names a key object bound to another repository", async () => {
  const { dir, env } = await initRepo();
  const other = "ab".repeat(32);
  const foreign = await wrapKeyFile(await generateMasterKeys(), PASSWORD, other, TEST_KDF);
  const name = `keys/${sha256Hex(foreign)}`;
  fs.writeFileSync(join(dir, name), foreign);
  const checked = await cli(["check"], env);
  assert.equal(checked.code, 3, checked.stdout + checked.stderr); // problems found
  assert.ok(
    (checked.stdout + checked.stderr).includes(
      `"${name}" belongs to another repository ("abababab"), not this one`,
    ),
    checked.stdout + checked.stderr,
  );
});
