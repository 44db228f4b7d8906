/**
 * `Repository.init` and `Repository.open` and the key objects (docs/format.md §4.1): only the
 * key set that belongs to the config opens a repository, whatever an interrupted or losing
 * `init` left behind. Races are staged with a storage wrapper that runs the other side at a
 * chosen call, so every interleaving is exact.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sha256Hex } from "../crypto/hash.ts";
import { openStorage } from "../storage/open.ts";
import type { Storage } from "../storage/storage.ts";
import { encodeConfig, newConfig } from "./config.ts";
import { encodeKeyExport, readKeyFileInfo, wrapKeyFile, wrapKeyFileV1 } from "./keyfile.ts";
import { generateMasterKeys, toIngestKeys } from "./keys.ts";
import { layout } from "./layout.ts";
import { Repository } from "./repository.ts";
import { tempDir } from "../../test/helpers.ts";

const KDF = { opslimit: 1, memlimit: 8 << 20 };
const OWNER = "owner passphrase";
const OTHER = "other passphrase";

async function emptyStorage(): Promise<{ dir: string; storage: Storage }> {
  const dir = await tempDir("pf-keys-");
  return { dir, storage: await openStorage(dir, "admin", { create: true }) };
}

/** `storage`, whose `method` first runs `before(name)` (once per matching call). */
function intercept(
  storage: Storage,
  method: "create" | "delete",
  before: (name: string) => Promise<void>,
): Storage {
  return new Proxy(storage, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop !== method) return typeof value === "function" ? value.bind(target) : value;
      return async (name: string, ...rest: unknown[]) => {
        await before(name);
        return await (value as (...a: unknown[]) => Promise<void>).call(target, name, ...rest);
      };
    },
  });
}

async function keyObjects(storage: Storage): Promise<string[]> {
  return (await storage.list(layout.prefixes.key)).map((o) => o.name).sort();
}

/** Stores a key object as `init` would, and returns its name. */
async function storeKey(storage: Storage, bytes: Uint8Array): Promise<string> {
  const name = layout.key(sha256Hex(bytes));
  await storage.create(name, bytes);
  return name;
}

Deno.test("init writes a version 2 key object bound to the config it then writes", async () => {
  const { storage } = await emptyStorage();
  const order: string[] = [];
  const repo = await Repository.init(
    intercept(storage, "create", (name) => Promise.resolve(void order.push(name))),
    OWNER,
    { kdf: KDF },
  );
  assert.deepEqual(order, [repo.keyObject, layout.config()]);
  const info = readKeyFileInfo(await storage.read(repo.keyObject!));
  assert.equal(info.version, 2);
  assert.equal(info.repository, repo.config.id);
  await storage.close();
});

Deno.test("an init that loses the config to another init removes its key object, and only the winner's passphrase opens", async () => {
  const { storage } = await emptyStorage();
  let winner: Repository | undefined;
  // The other init writes its key and config just before this one writes its config.
  const racing = intercept(storage, "create", async (name) => {
    if (name === layout.config() && !winner) {
      winner = await Repository.init(storage, OTHER, { kdf: KDF });
    }
  });
  await assert.rejects(Repository.init(racing, OWNER, { kdf: KDF }), (err: Error) => {
    assert.equal(err.name, "AlreadyExists");
    assert.equal(
      err.message,
      `another init created a repository here ("${winner!.config.id.slice(0, 8)}") at the same ` +
        "time, so this one did not: its key object was removed, so nothing of it is left. Open " +
        "that repository with its passphrase, or init another location",
    );
    return true;
  });
  assert.deepEqual(await keyObjects(storage), [winner!.keyObject]);
  const opened = await Repository.open(storage, { passphrase: OTHER });
  assert.deepEqual(opened.keys, winner!.keys);
  await assert.rejects(Repository.open(storage, { passphrase: OWNER }), {
    name: "WrongPassphrase",
    message: new RegExp(`opens none of the repository's key objects \\("${winner!.keyObject}"\\)`),
  });
  await storage.close();
});

Deno.test("a losing init that cannot remove its key object says so, and that key object opens nothing", async () => {
  const { storage } = await emptyStorage();
  let mine = "";
  // The winner wrote only its config (it has not swept yet), and deleting is refused.
  const racing = intercept(
    intercept(storage, "create", async (name) => {
      if (name === layout.config()) {
        await storage.create(layout.config(), encodeConfig(newConfig()));
      } else mine = name;
    }),
    "delete",
    () => Promise.reject(new Deno.errors.PermissionDenied("DELETE refused")),
  );
  await assert.rejects(Repository.init(racing, OWNER, { kdf: KDF }), {
    name: "AlreadyExists",
    message: /could not be removed \(DELETE refused\); it belongs to no config and opens nothing/,
  });
  assert.ok(mine.startsWith("keys/"));
  assert.deepEqual(await keyObjects(storage), [mine]);
  await assert.rejects(Repository.open(storage, { passphrase: OWNER }), {
    name: "NoUsableKey",
    message: new RegExp(
      `"${mine}" belongs to another repository \\("[0-9a-f]{8}"\\), not this one`,
    ),
  });
  await storage.close();
});

Deno.test("an init killed between its key object and its config is finished by running init again", async () => {
  for (const version of [2, 1]) {
    const { storage } = await emptyStorage();
    // The half state, made directly: a key object and no config (version 1: an older init).
    const keys = await generateMasterKeys();
    const left = await storeKey(
      storage,
      version === 2
        ? await wrapKeyFile(keys, OWNER, newConfig().id, KDF)
        : await wrapKeyFileV1(keys, OWNER, KDF),
    );
    await assert.rejects(Repository.open(storage, { passphrase: OWNER }), {
      name: "NotARepository",
    });
    const repo = await Repository.init(storage, OWNER, { kdf: KDF });
    assert.deepEqual(repo.warnings, [
      `"${left}" was left by an init that was interrupted or lost to this one; removed`,
    ]);
    assert.deepEqual(await keyObjects(storage), [repo.keyObject]);
    const opened = await Repository.open(storage, { passphrase: OWNER });
    assert.deepEqual(opened.keys, repo.keys, `version ${version}`);
    assert.deepEqual(opened.warnings, []);
    await storage.close();
  }
});

Deno.test("init refuses a location that holds data but no config (a lost config), and removes no key object", async () => {
  const { storage } = await emptyStorage();
  const left = await storeKey(
    storage,
    await wrapKeyFile(await generateMasterKeys(), OWNER, newConfig().id, KDF),
  );
  await storage.create(layout.index("ab".repeat(32)), new Uint8Array([1]));
  await assert.rejects(
    Repository.init(storage, OWNER, { kdf: KDF }),
    (err: Error) =>
      err.name === "ConfigMissing" && err.message.includes(layout.index("ab".repeat(32))),
  );
  assert.deepEqual(await keyObjects(storage), [left]);
  assert.equal(await storage.stat(layout.config()), null);
  await storage.close();
});

Deno.test("open skips a version 2 key object of another repository, with a warning naming it", async () => {
  const { storage } = await emptyStorage();
  const repo = await Repository.init(storage, OWNER, { kdf: KDF });
  // Same passphrase, another key set, bound to another config: never opens this repository.
  // Key objects are tried in name order: this one is made to come first.
  const other = newConfig().id;
  let bytes: Uint8Array;
  do {
    bytes = await wrapKeyFile(await generateMasterKeys(), OWNER, other, KDF);
  } while (layout.key(sha256Hex(bytes)) > repo.keyObject!);
  const foreign = await storeKey(storage, bytes);
  const opened = await Repository.open(storage, { passphrase: OWNER });
  assert.deepEqual(opened.keys, repo.keys);
  assert.equal(opened.keyObject, repo.keyObject);
  assert.deepEqual(opened.warnings, [
    `"${foreign}" belongs to another repository ("${other.slice(0, 8)}"), not this one ` +
    `("${repo.config.id.slice(0, 8)}"): an init that lost a race or was interrupted left it, ` +
    "and it opens nothing here; delete it; skipped",
  ]);
  // With the owner's key object gone, it is named and the passphrase opens nothing.
  await storage.delete(repo.keyObject!);
  await assert.rejects(Repository.open(storage, { passphrase: OWNER }), {
    name: "NoUsableKey",
    message: new RegExp(`"${foreign}" belongs to another repository \\("${other.slice(0, 8)}"\\)`),
  });
  await storage.close();
});

Deno.test("a wrong passphrase is refused naming each key object tried, and those skipped", async () => {
  const { storage } = await emptyStorage();
  const repo = await Repository.init(storage, OWNER, { kdf: KDF });
  const junk = await storeKey(storage, new TextEncoder().encode("junk"));
  await assert.rejects(Repository.open(storage, { passphrase: "not it" }), {
    name: "WrongPassphrase",
    message:
      `the passphrase opens none of the repository's key objects ("${repo.keyObject}"): it is ` +
      "not this repository's passphrase, or that key object is damaged (compare with the copy " +
      `you kept, docs/format.md §2); skipped: "${junk}" is not a valid key object (damaged, or ` +
      `written by a newer Permafrost): key "${junk}" is not UTF-8 JSON`,
  });
  await storage.close();
});

Deno.test("a damaged only key object is named and called damaged, not blamed on the passphrase", async () => {
  for (const damage of ["truncated", "renamed"]) {
    const { storage } = await emptyStorage();
    const repo = await Repository.init(storage, OWNER, { kdf: KDF });
    const bytes = await storage.read(repo.keyObject!);
    await storage.delete(repo.keyObject!);
    const name = damage === "truncated"
      ? await storeKey(storage, bytes.subarray(0, 40))
      : layout.key("f".repeat(64));
    if (damage === "renamed") await storage.create(name, bytes);
    await assert.rejects(Repository.open(storage, { passphrase: OWNER }), (err: Error) => {
      assert.equal(err.name, "NoUsableKey", damage);
      assert.match(err.message, new RegExp(`^no key object of this repository can be opened`));
      assert.ok(err.message.includes(`"${name}" is not a valid key object (damaged`), err.message);
      assert.match(err.message, /Put back the copy of the repository's key object you kept/);
      assert.doesNotMatch(err.message, /passphrase opens none/);
      return true;
    });
    await storage.close();
  }
});

Deno.test("a key file of another repository is refused naming the file and both repositories", async () => {
  const a = await emptyStorage();
  const b = await emptyStorage();
  const repoA = await Repository.init(a.storage, OWNER, { kdf: KDF });
  const repoB = await Repository.init(b.storage, OWNER, { kdf: KDF });
  const keyFile = encodeKeyExport(toIngestKeys(repoA.keys), repoA.config.id);
  const [idA, idB] = [repoA.config.id.slice(0, 8), repoB.config.id.slice(0, 8)];
  await assert.rejects(
    Repository.open(b.storage, { keyFile, keyFileName: "/home/ana/a.key" }),
    {
      name: "ForeignKey",
      message: `the key file "/home/ana/a.key" belongs to repository "${idA}", not to "${idB}", ` +
        `the repository at this location: use a key file exported from "${idB}" ` +
        "(`permafrost key ingest`), or its passphrase",
    },
  );
  await a.storage.close();
  await b.storage.close();
});

Deno.test("a repository whose key object is version 1 opens as before", async () => {
  const { storage } = await emptyStorage();
  const repo = await Repository.init(storage, OWNER, { kdf: KDF });
  const v1 = await storeKey(storage, await wrapKeyFileV1(repo.keys, OWNER, KDF));
  await storage.delete(repo.keyObject!);
  const opened = await Repository.open(storage, { passphrase: OWNER });
  assert.equal(opened.keyObject, v1);
  assert.deepEqual(opened.keys, repo.keys);
  assert.deepEqual(opened.warnings, []);
  await storage.close();
});

Deno.test("a repository without key objects says no passphrase can open it and what to do", async () => {
  const { storage } = await emptyStorage();
  const repo = await Repository.init(storage, OWNER, { kdf: KDF });
  await storage.delete(repo.keyObject!);
  await assert.rejects(Repository.open(storage, { passphrase: OWNER }), {
    name: "NoUsableKey",
    message: 'the repository has no key objects ("keys/<id>"), so no passphrase can open it: ' +
      "put back the copies you kept (docs/format.md §2)",
  });
  await storage.close();
});
