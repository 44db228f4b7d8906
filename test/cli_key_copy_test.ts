/**
 * The local copy of the key object in the cache folder (host/cache/key_copy.ts,
 * docs/format.md §10a) through the CLI: a command that opens with the passphrase keeps it, the
 * next starts its key derivation from it, and the store always wins: a changed passphrase,
 * a damaged copy and a wrong passphrase behave as they do without a copy.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { cli, PASSWORD, tempDir } from "./helpers.ts";

/** A repository made by `init` (cheap key derivation) and its own cache folder. */
async function initRepo(): Promise<{ dir: string; env: Record<string, string> }> {
  const root = await tempDir();
  const dir = join(root, "repo");
  const env = { PERMAFROST_REPO: dir, PERMAFROST_CACHE_DIR: join(root, "cache") };
  const init = await cli(["init", "--kdf-memlimit", "8MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  return { dir, env };
}

/** The bytes of the repository's only key object. */
function storedKey(dir: string): Uint8Array {
  const names = fs.readdirSync(join(dir, "keys"));
  assert.equal(names.length, 1);
  return fs.readFileSync(join(dir, "keys", names[0]));
}

/** The copies in the cache folder, by file. */
function copies(env: Record<string, string>): Uint8Array[] {
  const dir = join(env.PERMAFROST_CACHE_DIR, "key-copies");
  return fs.readdirSync(dir).map((n) => fs.readFileSync(join(dir, n)));
}

async function snapshots(env: Record<string, string>) {
  return await cli(["snapshots"], env);
}

Deno.test("a command opened with the passphrase keeps a copy of its key object, and the next opens with it", async () => {
  const { dir, env } = await initRepo();
  const first = await snapshots(env);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(copies(env), [storedKey(dir)]);
  const second = await snapshots(env);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(copies(env), [storedKey(dir)]);
});

Deno.test("after key passwd the old passphrase is refused as without a copy, and the new one opens and replaces the copy", async () => {
  const { dir, env } = await initRepo();
  assert.equal((await snapshots(env)).code, 0);
  const passwd = await cli(["key", "passwd", "--kdf-memlimit", "8MiB"], {
    ...env,
    PERMAFROST_NEW_PASSWORD: "new passphrase",
  });
  assert.equal(passwd.code, 0, passwd.stderr);

  const old = await snapshots(env);
  const noCopy = await snapshots({ ...env, PERMAFROST_CACHE_DIR: join(await tempDir(), "c") });
  assert.equal(old.code, 1);
  assert.match(old.stderr, /the passphrase opens none of the repository's key objects/);
  assert.equal(old.stderr, noCopy.stderr);

  const renewed = await snapshots({ ...env, PERMAFROST_PASSWORD: "new passphrase" });
  assert.equal(renewed.code, 0, renewed.stderr);
  assert.deepEqual(copies(env), [storedKey(dir)]);
});

Deno.test("a wrong passphrase with a copy is refused exactly as without one", async () => {
  const { env } = await initRepo();
  assert.equal((await snapshots(env)).code, 0);
  const wrong = { ...env, PERMAFROST_PASSWORD: `not ${PASSWORD}` };
  const withCopy = await snapshots(wrong);
  const noCopy = await snapshots({ ...wrong, PERMAFROST_CACHE_DIR: join(await tempDir(), "c") });
  assert.equal(withCopy.code, 1);
  assert.equal(withCopy.code, noCopy.code);
  assert.equal(withCopy.stderr, noCopy.stderr);
  assert.equal(withCopy.stdout, "");
});

Deno.test("a damaged copy is ignored and replaced by the store's key object", async () => {
  const { dir, env } = await initRepo();
  assert.equal((await snapshots(env)).code, 0);
  const copyDir = join(env.PERMAFROST_CACHE_DIR, "key-copies");
  const [file] = fs.readdirSync(copyDir);
  fs.writeFileSync(join(copyDir, file), '{"version":2,"kind":"master"');
  const r = await snapshots(env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.deepEqual(copies(env), [storedKey(dir)]);
});

Deno.test("a FIFO planted in place of the copy neither blocks the open nor outlives it", async () => {
  const { dir, env } = await initRepo();
  assert.equal((await snapshots(env)).code, 0);
  const copyDir = join(env.PERMAFROST_CACHE_DIR, "key-copies");
  const [file] = fs.readdirSync(copyDir);
  fs.rmSync(join(copyDir, file));
  const mkfifo = await new Deno.Command("mkfifo", { args: [join(copyDir, file)] }).output();
  assert.ok(mkfifo.success);
  const r = await snapshots(env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(copies(env), [storedKey(dir)]);
});
