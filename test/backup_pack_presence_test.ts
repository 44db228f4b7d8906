/**
 * A backup deduplicates only against packs that are stored (issue #12, cases 3 and 5): it lists
 * `packs/` when it starts and stores again every blob whose only indexed copies are in packs
 * that are missing, have another length than indexed, or whose index records disagree (one of
 * them is forged); and just before its manifest it confirms that every pack the snapshot needs
 * is still stored, else it commits nothing (docs/gc.md "Backups running meanwhile",
 * docs/security.md "Poison deduplication").
 *
 * Races are staged with a storage wrapper (as in test/backup_gc_race_test.ts): one chosen store
 * call of the backup first runs an admin's `gc purge --grace 0` through an independent handle.
 *
 * @module
 */

import { ForwardingStorage } from "../host/storage/forwarding.ts";
import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../host/crypto/hash.ts";
import { blobId } from "../host/crypto/mac.ts";
import { shippedPriceTable } from "../host/cost/price_table.ts";
import { backup } from "../host/ops/backup.ts";
import { check } from "../host/ops/check.ts";
import { executePurge, planPurge } from "../host/ops/gc_purge.ts";
import {
  encodeIndexSegment,
  type IndexedPack,
  openIndexSegment,
} from "../host/repository/index_segment.ts";
import { encodeKeyExport } from "../host/repository/keyfile.ts";
import { toIngestKeys } from "../host/repository/keys.ts";
import { layout } from "../host/repository/layout.ts";
import { Repository } from "../host/repository/repository.ts";
import { openStorage } from "../host/storage/open.ts";
import type { CreateOptions, Storage } from "../host/storage/storage.ts";
import { objectPath } from "../plugins/storage/local/object_path.ts";
import {
  describeTree,
  newRepo,
  PASSWORD,
  randomBytes,
  reopen,
  restoreLatest,
  tempDir,
} from "./helpers.ts";

const table = shippedPriceTable("us-east-1");
const purgeNow = { table, graceMs: 0, acceptEarlyFee: true, minimumDurations: false };

/** A storage whose `create` of a chosen object first awaits `before(name)`. */
class Staged extends ForwardingStorage {
  constructor(inner: Storage, private before: (name: string) => Promise<void>) {
    super(inner);
  }
  override async create(name: string, data: Uint8Array, options?: CreateOptions): Promise<void> {
    await this.before(name);
    return await this.inner.create(name, data, options);
  }
}

/** The repository in `dir` through a `Staged` storage. */
async function stagedRepo(dir: string, before: (name: string) => Promise<void>) {
  const storage = new Staged(await openStorage(dir, "admin"), before);
  return await Repository.open(storage, { passphrase: PASSWORD });
}

/** An admin's `gc purge --grace 0 --accept-early-fee` through a handle of its own. */
async function purgeAll(dir: string): Promise<number> {
  const admin = await reopen(dir);
  try {
    const plan = await planPurge(admin, purgeNow);
    return (await executePurge(admin, plan)).deletedPacks;
  } finally {
    await admin.storage.close();
  }
}

/** The first time a segment is created, runs purge first: the run's first pack is an orphan. */
function purgeBeforeFirstSegment(dir: string, deleted: { packs: number }) {
  let done = false;
  return async (name: string) => {
    if (done || !name.startsWith(layout.prefixes.index)) return;
    done = true;
    deleted.packs = await purgeAll(dir);
  };
}

async function snapshotCount(dir: string): Promise<number> {
  const repo = await reopen(dir);
  try {
    return (await repo.snapshots()).length;
  } finally {
    await repo.storage.close();
  }
}

/** Backs up `src` normally, then restores the latest snapshot and compares it with `src`. */
async function backupRestoresExactly(dir: string, src: string, cacheDir: string) {
  const repo = await reopen(dir);
  try {
    await backup(repo, { paths: [src], cacheDir });
    // The repository may still name the deleted pack; no snapshot may need it.
    const problems = (await check(repo)).problems;
    assert.deepEqual(
      problems.filter((p) => p.snapshot !== undefined),
      [],
      JSON.stringify(problems),
    );
  } finally {
    await repo.storage.close();
  }
  const target = await tempDir();
  await restoreLatest(dir, target);
  assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
}

Deno.test("a backup whose new pack gc purge deletes before its segment exists commits nothing, and the rerun restores", async () => {
  const { dir, repo, cacheDir } = await newRepo();
  await repo.storage.close();
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(1_500_000, 71));
  fs.writeFileSync(join(src, "b.bin"), randomBytes(200_000, 72));

  const deleted = { packs: 0 };
  const racing = await stagedRepo(dir, purgeBeforeFirstSegment(dir, deleted));
  try {
    await assert.rejects(backup(racing, { paths: [src], cacheDir }), (err: Error) => {
      assert.match(err.message, /"packs\/[0-9a-f]{64}"/);
      assert.match(err.message, /nothing was committed/);
      assert.match(err.message, /run the backup again/);
      return true;
    });
  } finally {
    await racing.storage.close();
  }
  assert.equal(deleted.packs, 1, "purge deleted the run's first pack, an orphan then");
  assert.equal(await snapshotCount(dir), 0, "no manifest was written");
  await backupRestoresExactly(dir, src, cacheDir);
});

Deno.test("the backup after a failed run does not deduplicate against that run's pack gc deleted", async () => {
  const { dir, repo, cacheDir } = await newRepo();
  await repo.storage.close();
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(1_500_000, 81));
  fs.writeFileSync(join(src, "b.bin"), randomBytes(200_000, 82));

  // The first run loses its first pack to purge, then fails before its manifest (whatever the
  // cause): its segments stay, naming the deleted pack.
  const deleted = { packs: 0 };
  const purge = purgeBeforeFirstSegment(dir, deleted);
  const failing = await stagedRepo(dir, async (name) => {
    await purge(name);
    if (name.startsWith(layout.prefixes.snapshot)) throw new Error("simulated: connection lost");
  });
  try {
    await assert.rejects(backup(failing, { paths: [src], cacheDir }));
  } finally {
    await failing.storage.close();
  }
  assert.equal(deleted.packs, 1);
  assert.equal(await snapshotCount(dir), 0);
  await backupRestoresExactly(dir, src, cacheDir);
});

/** An ingest client of the repository in `dir`, from the admin's keys. */
async function ingestClient(dir: string, admin: Repository): Promise<Repository> {
  const keyFile = encodeKeyExport(toIngestKeys(admin.keys), admin.config.id);
  return await reopen(dir, { keyFile }, "ingest");
}

/** Writes a version-1 segment naming `packs`, as a compromised ingest client can. */
async function forgeSegment(ingest: Repository, packs: IndexedPack[]): Promise<void> {
  const forged = encodeIndexSegment(ingest.keys.indexKey, packs, {
    level: ingest.config.compression.level,
  });
  await ingest.storage.create(layout.index(sha256Hex(forged)), forged);
}

/** The one data pack record of the repository's segments. */
async function onlyDataPack(repo: Repository): Promise<IndexedPack> {
  const data: IndexedPack[] = [];
  for (const o of await repo.storage.list(layout.prefixes.index)) {
    const segment = openIndexSegment(repo.keys.indexKey, await repo.storage.read(o.name));
    data.push(...segment.packs.filter((p) => !p.metadata));
  }
  assert.equal(data.length, 1);
  return data[0];
}

Deno.test("a backup stores again a blob that a segment claims is in a pack that does not exist", async () => {
  const { dir, repo, cacheDir } = await newRepo();
  const src = await tempDir();
  const small = randomBytes(10_000, 91); // under the chunker's minimum: one blob, its id known
  fs.writeFileSync(join(src, "small.bin"), small);
  const ingest = await ingestClient(dir, repo);
  await forgeSegment(ingest, [{
    pack: "ab".repeat(32),
    metadata: false,
    length: 4096,
    blobs: [{
      id: blobId(repo.keys.macKey, small),
      type: "data",
      frameOffset: 88,
      frameLength: 1000,
      offsetInFrame: 0,
      length: small.length,
    }],
  }]);
  await ingest.storage.close();
  await repo.storage.close();
  await backupRestoresExactly(dir, src, cacheDir);
});

Deno.test("a backup stores again a blob that only a forged record of a real pack lists, and still deduplicates what every record lists", async () => {
  const { dir, repo, cacheDir } = await newRepo();
  const first = await tempDir();
  fs.writeFileSync(join(first, "a.bin"), randomBytes(300_000, 101));
  await backup(repo, { paths: [first], cacheDir });
  const real = await onlyDataPack(repo);

  // The forged record of the real pack adds a blob at the place of its first one.
  const later = await tempDir();
  const small = randomBytes(10_000, 102);
  fs.writeFileSync(join(later, "small.bin"), small);
  const ingest = await ingestClient(dir, repo);
  await forgeSegment(ingest, [{
    ...real,
    blobs: [...real.blobs, { ...real.blobs[0], id: blobId(repo.keys.macKey, small) }],
  }]);
  await ingest.storage.close();

  const again = await backup(repo, { paths: [first] });
  assert.equal(again.manifest.stats.newBlobs, 0, "the blobs both records list are reused");
  await repo.storage.close();
  await backupRestoresExactly(dir, later, cacheDir);
});

Deno.test("a backup stores again the blobs of a pack shorter than indexed", async () => {
  const { dir, repo, cacheDir } = await newRepo();
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(300_000, 111));
  await backup(repo, { paths: [src], cacheDir });
  const real = await onlyDataPack(repo);
  await repo.storage.close();
  const file = join(dir, objectPath(layout.pack(real.pack)));
  fs.truncateSync(file, fs.statSync(file).size - 1000);

  const repo2 = await reopen(dir);
  try {
    const result = await backup(repo2, { paths: [src] });
    assert.ok(result.manifest.stats.newBlobs >= 1, "the truncated pack's blobs are stored again");
  } finally {
    await repo2.storage.close();
  }
  const target = await tempDir();
  await restoreLatest(dir, target);
  assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
});

Deno.test("gc purge keeps a pack it planned to delete when a backup indexed it after the plan", async () => {
  const { dir, repo, cacheDir } = await newRepo();
  await repo.storage.close();
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(1_500_000, 131));

  // The plan is made while the run's first pack has no segment yet: an orphan, due at once.
  const admin = await reopen(dir);
  let plan: Awaited<ReturnType<typeof planPurge>> | undefined;
  const racing = await stagedRepo(dir, async (name) => {
    if (plan === undefined && name.startsWith(layout.prefixes.index)) {
      plan = await planPurge(admin, purgeNow);
    }
  });
  try {
    await backup(racing, { paths: [src], cacheDir });
    assert.equal(plan!.delete.length, 1, "the plan would delete the run's first pack");
    const result = await executePurge(admin, plan!);
    assert.deepEqual([result.deletedPacks, result.namedAgain], [0, 1]);
  } finally {
    await racing.storage.close();
    await admin.storage.close();
  }
  const target = await tempDir();
  await restoreLatest(dir, target);
  assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
});
