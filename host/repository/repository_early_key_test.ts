/**
 * `Repository.open` with a key derivation started early from a local copy of a key object
 * (host/cache/key_copy.ts): the derivation is used only for the key object the store holds
 * under the copy's name with the copy's bytes; a changed, added or removed key object in the
 * store is honoured, and a wrong passphrase fails exactly as without a copy.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sha256Hex } from "../crypto/hash.ts";
import { deriveKey } from "../crypto/kdf.ts";
import { openStorage } from "../storage/open.ts";
import type { Storage } from "../storage/storage.ts";
import { readKeyFileInfo, wrapKeyFile } from "./keyfile.ts";
import { layout } from "./layout.ts";
import { type Credentials, Repository } from "./repository.ts";
import { tempDir } from "../../test/helpers.ts";

const KDF = { opslimit: 1, memlimit: 8 << 20 };
const OLD = "old passphrase";
const NEW = "new passphrase";

/** A new repository opened by `OLD`, its storage and its one key object. */
async function newRepository(): Promise<
  { repo: Repository; storage: Storage; name: string; bytes: Uint8Array }
> {
  const storage = await openStorage(await tempDir("pf-early-"), "admin", { create: true });
  const repo = await Repository.init(storage, OLD, { kdf: KDF });
  const name = repo.keyObject!;
  return { repo, storage, name, bytes: await storage.read(name) };
}

/** What a command does with a copy: derives from `passphrase` under the copy's parameters. */
function early(
  keyObject: Uint8Array,
  passphrase: string,
): { early: NonNullable<Credentials["early"]>; used: () => boolean } {
  const derivedKey = deriveKey(passphrase, readKeyFileInfo(keyObject).kdf);
  let used = false;
  // `unwrapKeyFile` takes the derivation with `.catch` (to derive again if it failed).
  const own = derivedKey.catch.bind(derivedKey);
  derivedKey.catch = (onRejected) => {
    used = true;
    return own(onRejected);
  };
  return { early: { keyObject, derivedKey }, used: () => used };
}

/** The error `Repository.open` throws with `credentials`. */
async function openError(storage: Storage, credentials: Credentials): Promise<Error> {
  try {
    await Repository.open(storage, credentials);
  } catch (err) {
    return err as Error;
  }
  throw new assert.AssertionError({ message: "the open succeeded" });
}

/** Adds a key object under `passphrase`; returns its name. */
async function addKey(repo: Repository, passphrase: string): Promise<string> {
  const bytes = await wrapKeyFile(repo.keys, passphrase, repo.config.id, KDF);
  const name = layout.key(sha256Hex(bytes));
  await repo.storage.create(name, bytes); // hands the bytes over: named first
  return name;
}

/** Replaces the key object `name` by one under `passphrase`, as `key passwd` does. */
async function changePassphrase(repo: Repository, name: string, passphrase: string) {
  const next = await addKey(repo, passphrase);
  await repo.storage.delete(name);
  return { next };
}

Deno.test("open unwraps with the derivation started from a copy that the store holds byte for byte", async () => {
  const { storage, name, bytes } = await newRepository();
  const copy = early(bytes, OLD);
  const repo = await Repository.open(storage, { passphrase: OLD, early: copy.early });
  assert.equal(repo.keyObject, name);
  assert.ok(copy.used(), "the early derivation opened it");
  await storage.close();
});

Deno.test("after the passphrase changed in the store, the new one opens without the stale copy's derivation", async () => {
  const { repo, storage, name, bytes } = await newRepository();
  const { next } = await changePassphrase(repo, name, NEW);
  const copy = early(bytes, NEW);
  const opened = await Repository.open(storage, { passphrase: NEW, early: copy.early });
  assert.equal(opened.keyObject, next);
  assert.equal(copy.used(), false);
  await storage.close();
});

Deno.test("after the passphrase changed in the store, the old one is refused as it is without a copy", async () => {
  const { repo, storage, name, bytes } = await newRepository();
  const { next } = await changePassphrase(repo, name, NEW);
  const copy = early(bytes, OLD);
  const withCopy = await openError(storage, { passphrase: OLD, early: copy.early });
  const without = await openError(storage, { passphrase: OLD });
  assert.equal(withCopy.name, "WrongPassphrase");
  assert.equal(withCopy.message, without.message);
  assert.ok(withCopy.message.includes(`"${next}"`), withCopy.message);
  assert.equal(copy.used(), false);
  await storage.close();
});

Deno.test("a key object removed from the store does not open from its copy, and another key added opens", async () => {
  const { repo, storage, name, bytes } = await newRepository();
  const added = await addKey(repo, NEW);
  await storage.delete(name);
  const copy = early(bytes, OLD);
  const err = await openError(storage, { passphrase: OLD, early: copy.early });
  assert.equal(err.name, "WrongPassphrase");
  assert.equal(copy.used(), false);
  const opened = await Repository.open(storage, {
    passphrase: NEW,
    early: early(bytes, NEW).early,
  });
  assert.equal(opened.keyObject, added);
  await storage.close();
});

Deno.test("a wrong passphrase with a copy fails exactly as it does without one", async () => {
  const { storage, bytes } = await newRepository();
  const copy = early(bytes, "wrong");
  const withCopy = await openError(storage, { passphrase: "wrong", early: copy.early });
  const without = await openError(storage, { passphrase: "wrong" });
  assert.ok(copy.used());
  assert.equal(withCopy.name, "WrongPassphrase");
  assert.equal(withCopy.constructor, without.constructor);
  assert.equal(withCopy.message, without.message);
  await storage.close();
});

Deno.test("with two key objects, the one that is not the copy opens with its own passphrase after the copy's is tried", async () => {
  const { repo, storage, bytes } = await newRepository();
  const added = await addKey(repo, NEW);
  const copy = early(bytes, NEW);
  const opened = await Repository.open(storage, { passphrase: NEW, early: copy.early });
  assert.equal(opened.keyObject, added);
  assert.ok(copy.used(), "the copy's key object was tried first, with the early derivation");
  await storage.close();
});

Deno.test("a wrong passphrase with a copy of the key object listed last names the key objects as it does without one", async () => {
  const { repo, storage, name, bytes } = await newRepository();
  const added = await addKey(repo, NEW);
  const last = added > name ? await storage.read(added) : bytes;
  const withCopy = await openError(storage, {
    passphrase: "wrong",
    early: early(last, "wrong").early,
  });
  const without = await openError(storage, { passphrase: "wrong" });
  assert.equal(withCopy.name, "WrongPassphrase");
  assert.equal(withCopy.message, without.message);
  await storage.close();
});
