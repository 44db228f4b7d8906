import assert from "node:assert/strict";
import { join } from "node:path";
import fs from "node:fs";
import { CapabilityRefused, KeyCannotRead } from "../plugins/sdk/errors.ts";
import { backup } from "../host/ops/backup.ts";
import { planRestore } from "../host/ops/restore_plan.ts";
import { ls } from "../host/ops/ls.ts";
import { find } from "../host/ops/find.ts";
import { diff } from "../host/ops/diff.ts";
import { aeadOpen } from "../host/crypto/aead.ts";
import { encodeKeyExport } from "../host/repository/keyfile.ts";
import { toIngestKeys } from "../host/repository/keys.ts";
import { layout } from "../host/repository/layout.ts";
import { openDataKey, PACK_HEADER_LENGTH } from "../host/repository/pack.ts";
import { WrongPassphrase } from "../host/repository/errors.ts";
import { Repository } from "../host/repository/repository.ts";
import { openStorage } from "../host/storage/open.ts";
import { newRepo, PASSWORD, reopen, tempDir, TEST_KDF, writeSampleTree } from "./helpers.ts";

async function ingestSetup() {
  const src = await tempDir();
  writeSampleTree(src);
  const { dir, repo, cacheDir } = await newRepo();
  const keyFile = encodeKeyExport(toIngestKeys(repo.keys), repo.config.id);
  await repo.storage.close();
  const ingest = await reopen(dir, { keyFile }, "ingest");
  return { src, dir, cacheDir, ingest, keyFile };
}

Deno.test("an ingest key backs up and lists snapshots", async () => {
  const { src, dir, cacheDir, ingest } = await ingestSetup();
  assert.equal(ingest.canRead, false);
  const result = await backup(ingest, { paths: [src], cacheDir });
  assert.ok(result.id);
  const snaps = await ingest.snapshots();
  assert.equal(snaps.length, 1);
  assert.equal(snaps[0].manifest.stats.files, result.manifest.stats.files);
  await ingest.storage.close();
  // and the owner of the passphrase restores what it stored
  const owner = await reopen(dir);
  const plan = await planRestore(owner, snaps[0].id, snaps[0].manifest.root);
  assert.equal(plan.files, result.manifest.stats.files);
  await owner.storage.close();
});

Deno.test("an ingest key cannot restore, ls, find or diff: this key cannot read", async () => {
  const { src, cacheDir, ingest } = await ingestSetup();
  const result = await backup(ingest, { paths: [src], cacheDir });
  const root = result.manifest.root;
  await assert.rejects(planRestore(ingest, result.id!, root), KeyCannotRead);
  await assert.rejects(ls(ingest, root, "/"), KeyCannotRead);
  await assert.rejects(find(ingest, ["*"]), KeyCannotRead);
  await assert.rejects(diff(ingest, result.manifest, src, { content: true }), KeyCannotRead);
  await assert.rejects(ingest.readBlob(root), /this key cannot read/);
  await ingest.storage.close();
});

Deno.test("the ingest key material cannot decrypt a pack, a tree or a snapshot's file list", async () => {
  const { src, cacheDir, ingest, dir } = await ingestSetup();
  const result = await backup(ingest, { paths: [src], cacheDir });
  await ingest.storage.close();
  const keys = ingest.keys;
  assert.equal(keys.privateKey, undefined);
  // Read the raw objects straight from the folder, as an attacker with the key and the disk.
  const owner = await reopen(dir);
  await owner.loadIndex();
  const tree = owner.index.get(result.manifest.root)!;
  const details = owner.index.get(result.manifest.details)!;
  await owner.storage.close();
  for (const entry of [tree, details]) {
    const raw = fs.readFileSync(join(dir, "meta", entry.pack));
    // the pack's data key is sealed to the public key: opening it needs the private key
    assert.throws(() => openDataKey(raw.subarray(0, PACK_HEADER_LENGTH), keys), KeyCannotRead);
    // no symmetric key the ingest client holds opens a frame
    const frame = raw.subarray(entry.frameOffset, entry.frameOffset + entry.frameLength);
    for (const k of [keys.indexKey, keys.macKey, keys.chunkerKey, keys.publicKey]) {
      assert.throws(() => aeadOpen(k, frame), (e: Error) => e.name === "IntegrityError");
    }
  }
  // the hot manifest it can read names no file
  const manifest = JSON.stringify(
    (await (await reopen(
      dir,
      { keyFile: encodeKeyExport(keys, (await reopen(dir)).config.id) },
      "ingest",
    )).snapshots())[0].manifest,
  );
  assert.ok(!manifest.includes("hello.txt"));
});

Deno.test("an ingest storage handle cannot delete nor read packs", async () => {
  const { src, cacheDir, ingest } = await ingestSetup();
  await backup(ingest, { paths: [src], cacheDir });
  const packs = await ingest.storage.list(layout.prefixes.pack);
  assert.ok(packs.length > 0);
  await assert.rejects(ingest.storage.delete(packs[0].name), CapabilityRefused);
  await assert.rejects(ingest.storage.read(packs[0].name), CapabilityRefused);
  await ingest.storage.close();
});

Deno.test("a wrong passphrase is refused with WrongPassphrase", async () => {
  const { dir, repo } = await newRepo();
  await repo.storage.close();
  await assert.rejects(reopen(dir, { passphrase: "not it" }), WrongPassphrase);
});

Deno.test("a key file of another repository is refused", async () => {
  const a = await newRepo();
  const b = await newRepo();
  const keyFile = encodeKeyExport(toIngestKeys(a.repo.keys), a.repo.config.id);
  await a.repo.storage.close();
  await b.repo.storage.close();
  await assert.rejects(reopen(b.dir, { keyFile }, "ingest"), /belongs to repository/);
});

Deno.test("a folder without a repository is named as such", async () => {
  const dir = await tempDir();
  await assert.rejects(
    Repository.open(await openStorage(dir, "admin"), { passphrase: PASSWORD }),
    (e: Error) => e.name === "NotARepository",
  );
});

Deno.test("init refuses a folder that already holds a repository", async () => {
  const { dir, repo } = await newRepo();
  await repo.storage.close();
  const storage = await openStorage(dir, "admin");
  await assert.rejects(Repository.init(storage, PASSWORD, { kdf: TEST_KDF }), /already exists/);
  await storage.close();
});

Deno.test("init refuses a location whose config was lost, naming what it found, and writes nothing", async () => {
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  await Deno.writeTextFile(`${src}/a.txt`, "kept");
  await backup(repo, { paths: [src] });
  await repo.storage.delete(layout.config());
  const before = (await repo.storage.list("")).map((o) => o.name).sort();
  await repo.storage.close();
  const storage = await openStorage(dir, "admin");
  await assert.rejects(
    Repository.init(storage, PASSWORD, { kdf: TEST_KDF }),
    (err: Error) => err.name === "ConfigMissing" && /no "config"/.test(err.message),
  );
  assert.deepEqual((await storage.list("")).map((o) => o.name).sort(), before);
  await storage.close();
});
