/**
 * A backup racing a garbage collection (docs/gc.md "Purge", host/ops/reuse_guard.ts): a
 * compaction that retires packs a running backup reused or wrote fails the backup before it
 * writes its manifest, and a rerun stores what is needed.
 *
 * How the race is staged: the backup runs on a repository handle whose storage is wrapped so
 * that one chosen store call first runs an admin's `gc compact` through a second, independent
 * handle on the same folder, and only then proceeds. The backup awaits that call, so the
 * compaction happens strictly after the backup loaded its index and before it checks it again:
 * what a slow upload during a compaction looks like, with no hook in the production code.
 *
 * @module
 */

import { ForwardingStorage } from "../host/storage/forwarding.ts";
import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { shippedPriceTable } from "../host/cost/price_table.ts";
import { COARSE_RACY_MARGIN_MS } from "../host/cache/file_cache.ts";
import { backup } from "../host/ops/backup.ts";
import { check } from "../host/ops/check.ts";
import { compactWork, planCompact } from "../host/ops/gc_compact.ts";
import { executeCompact } from "../host/ops/gc_compact_execute.ts";
import { executePurge, planPurge } from "../host/ops/gc_purge.ts";
import { consolidateIndex } from "../host/ops/index_consolidate.ts";
import { PacksGoneAfterCommit, RetiredDuringBackup } from "../host/ops/reuse_guard.ts";
import { layout } from "../host/repository/layout.ts";
import { Repository } from "../host/repository/repository.ts";
import { openStorage } from "../host/storage/open.ts";
import type { ByteRange, CreateOptions, ObjectInfo, Storage } from "../host/storage/storage.ts";
import {
  describeTree,
  forgetOne,
  newRepo,
  PASSWORD,
  randomBytes,
  reopen,
  restoreLatest,
  tempDir,
} from "./helpers.ts";

const table = shippedPriceTable("us-east-1");

/** Which store call of the backup runs the admin's work first. */
type Moment = "first pack" | "index listed after the packs" | "manifest";

/**
 * A storage that, at `moment`, runs `admin` once and waits for it before the call goes on.
 */
class Interleaved extends ForwardingStorage {
  #packsStored = false;
  #done = false;
  constructor(
    inner: Storage,
    private moment: Moment,
    private admin: () => Promise<void>,
  ) {
    super(inner);
  }

  async #maybeRun(now: boolean): Promise<void> {
    if (!now || this.#done) return;
    this.#done = true;
    await this.admin();
  }

  override async create(name: string, data: Uint8Array, options?: CreateOptions): Promise<void> {
    const pack = name.startsWith(layout.prefixes.pack);
    await this.#maybeRun(pack && this.moment === "first pack");
    await this.#maybeRun(name.startsWith(layout.prefixes.snapshot) && this.moment === "manifest");
    if (pack) this.#packsStored = true;
    return await this.inner.create(name, data, options);
  }
  override async list(prefix: string): Promise<ObjectInfo[]> {
    await this.#maybeRun(
      prefix === layout.prefixes.index && this.#packsStored &&
        this.moment === "index listed after the packs",
    );
    return await this.inner.list(prefix);
  }
  /** Names read, in order (a test checks what a backup reads back). */
  readonly reads: string[] = [];
  override read(name: string, range?: ByteRange): Promise<Uint8Array> {
    this.reads.push(name);
    return this.inner.read(name, range);
  }
}

/** The backup's own handle: storage that runs `admin` at `moment`. */
async function racingRepo(dir: string, moment: Moment, admin: () => Promise<void>) {
  const storage = new Interleaved(await openStorage(dir, "admin"), moment, admin);
  return await Repository.open(storage, { passphrase: PASSWORD });
}

/** An admin's `gc compact --all`, through a handle of its own. */
async function compactAll(dir: string): Promise<number> {
  const admin = await reopen(dir);
  try {
    const plan = await planCompact(admin, { table, to: "internet", all: true });
    return (await executeCompact(admin, compactWork(plan))).retired;
  } finally {
    await admin.storage.close();
  }
}

async function snapshotCount(dir: string): Promise<number> {
  const repo = await reopen(dir);
  try {
    return (await repo.snapshots()).length;
  } finally {
    await repo.storage.close();
  }
}

/**
 * After a failed race: a rerun succeeds, the snapshot restores byte-exact and check is clean but
 * for the `broken` snapshots the failed run committed.
 */
async function rerunRestores(dir: string, src: string, cacheDir: string, broken = 0) {
  const repo = await reopen(dir);
  try {
    const result = await backup(repo, { paths: [src], cacheDir });
    assert.equal(result.walk.cachedFiles, 0, "the failed run did not fill the file cache");
    const snapshots = new Set((await check(repo)).problems.map((p) => p.snapshot));
    assert.equal(snapshots.size, broken);
    assert.ok(!snapshots.has(result.id), "the rerun's snapshot is whole");
  } finally {
    await repo.storage.close();
  }
  const target = await tempDir();
  await restoreLatest(dir, target);
  assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
}

/**
 * Snapshot 1 holds old/x.bin; snapshot 2 does not; forgetting snapshot 1 leaves the blobs of
 * x.bin indexed but dead. Then x.bin is back in the source, so the racing backup reuses them,
 * while `admin` runs as it stores its first pack.
 */
async function raceOverReusedBlobs(
  admin: (dir: string) => Promise<number>,
  outcome: "rescued" | "failed",
) {
  const { dir, repo, cacheDir } = await newRepo();
  const src = await tempDir();
  fs.mkdirSync(join(src, "old"));
  fs.writeFileSync(join(src, "old/x.bin"), randomBytes(1_800_000, 31));
  fs.writeFileSync(join(src, "keep.bin"), randomBytes(400_000, 32));
  await backup(repo, { paths: [src] });
  fs.rmSync(join(src, "old"), { recursive: true });
  await backup(repo, { paths: [src] });
  const first = (await repo.snapshots())[0];
  await forgetOne(repo, first);
  await repo.storage.close();
  fs.mkdirSync(join(src, "old"));
  fs.writeFileSync(join(src, "old/x.bin"), randomBytes(1_800_000, 31));
  fs.writeFileSync(join(src, "new.bin"), randomBytes(300_000, 33));
  // Settled past the file cache's racy margin, so a failed run that wrongly committed the cache
  // would leave rows the rerun hits (rerunRestores checks it has none).
  await new Promise((r) => setTimeout(r, COARSE_RACY_MARGIN_MS + 100));

  let retired = 0;
  const racing = await racingRepo(dir, "first pack", async () => {
    retired = await admin(dir);
  });
  try {
    if (outcome === "failed") {
      await assert.rejects(
        backup(racing, { paths: [src], cacheDir }),
        (err: Error) =>
          err instanceof RetiredDuringBackup && /nothing was committed/.test(err.message) &&
          /run the backup again/.test(err.message),
      );
    } else {
      await backup(racing, { paths: [src], cacheDir });
    }
  } finally {
    await racing.storage.close();
  }
  assert.ok(retired >= 1, "the compaction retired the packs of the forgotten snapshot");
  if (outcome === "failed") {
    assert.equal(await snapshotCount(dir), 1, "no manifest was written");
    await rerunRestores(dir, src, cacheDir);
  } else {
    assert.equal(await snapshotCount(dir), 2);
    await rescuedAndSafe(dir, src);
  }
}

/** After a rescued race: check is clean, purge keeps what the snapshot needs, restore exact. */
async function rescuedAndSafe(dir: string, src: string) {
  const repo = await reopen(dir);
  try {
    assert.deepEqual((await check(repo)).problems, []);
    const options = { table, graceMs: 0, acceptEarlyFee: true, minimumDurations: false };
    await executePurge(repo, await planPurge(repo, options));
    assert.deepEqual((await check(repo)).problems, [], "purge deleted nothing the backup needs");
  } finally {
    await repo.storage.close();
  }
  const target = await tempDir();
  await restoreLatest(dir, target);
  assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
}

Deno.test("a backup names again a retired pack it deduplicated against meanwhile, so its snapshot stays whole", async () => {
  await raceOverReusedBlobs(compactAll, "rescued");
});

Deno.test("a backup fails when gc retires and purges a pack it deduplicated against meanwhile", async () => {
  // Purge deletes the retired packs and then the segments that named them: the run can no
  // longer list their blobs, and counts every retired pack it reused from as lost.
  await raceOverReusedBlobs(async (dir) => {
    const retired = await compactAll(dir);
    const admin = await reopen(dir);
    try {
      const options = { table, graceMs: 0, acceptEarlyFee: true, minimumDurations: false };
      const plan = await planPurge(admin, options);
      assert.ok(plan.delete.length >= 1 && plan.segments.length >= 1);
      await executePurge(admin, plan);
    } finally {
      await admin.storage.close();
    }
    return retired;
  }, "failed");
});

Deno.test("a backup names again the packs it wrote when gc retired them before its manifest existed", async () => {
  const { dir, repo, cacheDir } = await newRepo();
  await repo.storage.close();
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(1_500_000, 41));
  fs.writeFileSync(join(src, "b.bin"), randomBytes(200_000, 42));

  let retired = 0;
  const racing = await racingRepo(dir, "index listed after the packs", async () => {
    retired = await compactAll(dir);
  });
  try {
    await backup(racing, { paths: [src], cacheDir });
  } finally {
    await racing.storage.close();
  }
  assert.ok(retired >= 2, "the compaction saw the run's packs as dead and retired them");
  assert.equal(await snapshotCount(dir), 1);
  await rescuedAndSafe(dir, src);
});

Deno.test("gc purge deletes no pack once a snapshot was committed after its plan, so a compaction after the backup's last check loses nothing", async () => {
  const { dir, repo, cacheDir } = await newRepo();
  await repo.storage.close();
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(1_500_000, 71));

  // After the run's last check, before its manifest: a compaction retires the run's packs (all
  // dead without the manifest), and a purge with no grace plans to delete them.
  let retired = 0;
  const admin = await reopen(dir);
  let plan: Awaited<ReturnType<typeof planPurge>> | undefined;
  const racing = await racingRepo(dir, "manifest", async () => {
    retired = await compactAll(dir);
    plan = await planPurge(admin, {
      table,
      graceMs: 0,
      acceptEarlyFee: true,
      minimumDurations: false,
    });
  });
  try {
    await backup(racing, { paths: [src], cacheDir });
    assert.ok(retired >= 2 && plan!.delete.length >= 2, "the plan would delete the run's packs");
    const result = await executePurge(admin, plan!);
    assert.equal(result.deletedPacks, 0);
    assert.equal(result.deletedSegments, 0);
    assert.equal(result.keptForNewSnapshots, plan!.delete.length);
    // The next purge counts the snapshot live: it names the retired packs again.
    const again = await executePurge(
      admin,
      await planPurge(admin, { table, graceMs: 0, acceptEarlyFee: true, minimumDurations: false }),
    );
    assert.ok(again.rescued >= 2);
  } finally {
    await racing.storage.close();
    await admin.storage.close();
  }
  await rescuedAndSafe(dir, src);
});

Deno.test("a backup paused between its last check and its manifest fails when gc deleted its packs meanwhile, naming the snapshot", async () => {
  const { dir, repo, cacheDir } = await newRepo();
  await repo.storage.close();
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(1_500_000, 81));

  // The machine sleeps for two days right after the run's last check: meanwhile a compaction
  // retires the run's packs (all dead without the manifest) and a purge, its grace period over
  // by then, deletes them.
  let skew = 0;
  const racing = await racingRepo(dir, "manifest", async () => {
    await compactAll(dir);
    const admin = await reopen(dir);
    try {
      const options = { table, graceMs: 0, acceptEarlyFee: true, minimumDurations: false };
      assert.ok((await executePurge(admin, await planPurge(admin, options))).deletedPacks >= 2);
    } finally {
      await admin.storage.close();
    }
    skew = 2 * 86_400_000;
  });
  try {
    await assert.rejects(
      backup(racing, { paths: [src], cacheDir, clock: () => Date.now() + skew }),
      (err: Error) =>
        err instanceof PacksGoneAfterCommit &&
        /^snapshot "[0-9a-f]{8}" was saved, but \d+ packs it needs \(e\.g\. "packs\/[0-9a-f]{64}"\) were deleted/
          .test(err.message) &&
        /Run the backup again/.test(err.message),
    );
  } finally {
    await racing.storage.close();
  }
  await rerunRestores(dir, src, cacheDir, 1);
});

Deno.test("a backup succeeds when gc supersedes segments during the run but retires nothing", async () => {
  const { dir, repo, cacheDir } = await newRepo();
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(1_500_000, 51));
  await backup(repo, { paths: [src] });
  await repo.storage.close();
  fs.writeFileSync(join(src, "b.bin"), randomBytes(700_000, 52));

  const racing = await racingRepo(dir, "first pack", async () => {
    const admin = await reopen(dir);
    try {
      await consolidateIndex(admin);
    } finally {
      await admin.storage.close();
    }
  });
  try {
    const result = await backup(racing, { paths: [src], cacheDir });
    assert.ok(result.id);
    assert.ok(racing.supersededSegments().size >= 1, "the backup saw the consolidation");
  } finally {
    await racing.storage.close();
  }
  const target = await tempDir();
  await restoreLatest(dir, target);
  assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
});

Deno.test("a backup's last index check does not read back the segments it wrote itself", async () => {
  const { dir, repo, cacheDir } = await newRepo();
  await repo.storage.close();
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(2_500_000, 61));
  const storage = new Interleaved(await openStorage(dir, "admin"), "first pack", async () => {});
  const own = await Repository.open(storage, { passphrase: PASSWORD });
  try {
    await backup(own, { paths: [src], cacheDir });
  } finally {
    await own.storage.close();
  }
  const after = await reopen(dir);
  const written = (await after.storage.list(layout.prefixes.index)).length;
  await after.storage.close();
  assert.ok(written >= 3, "the run wrote a segment per pack");
  assert.deepEqual(storage.reads.filter((n) => n.startsWith(layout.prefixes.index)), []);
});
