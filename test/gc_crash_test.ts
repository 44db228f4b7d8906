/**
 * Crash consistency of gc compact and gc purge (docs/gc.md "Invariants"): a run stopped after
 * any one of its store calls leaves a repository that `check` finds clean and that restores
 * byte-exact, and running the stage again finishes the job. The stop is a throw from the
 * stage's step callback, which runs right after each durable store call: the same state a
 * killed process leaves, since nothing is buffered between steps.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { shippedPriceTable } from "../host/cost/price_table.ts";
import { backup } from "../host/ops/backup.ts";
import { check } from "../host/ops/check.ts";
import { compactWork, planCompact } from "../host/ops/gc_compact.ts";
import { executeCompact } from "../host/ops/gc_compact_execute.ts";
import { executePurge, planPurge } from "../host/ops/gc_purge.ts";
import {
  describeTree,
  forgetOne,
  newRepo,
  randomBytes,
  reopen,
  restoreLatest,
  tempDir,
} from "./helpers.ts";

const table = shippedPriceTable("us-east-1");
class Stop extends Error {}

async function lifecycleRepo() {
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  const write = (rel: string, n: number, seed: number) => {
    fs.mkdirSync(join(src, rel, ".."), { recursive: true });
    fs.writeFileSync(join(src, rel), randomBytes(n, seed));
  };
  write("keep/a.bin", 900_000, 11);
  write("gone/b.bin", 1_800_000, 12);
  write("gone/c.bin", 300_000, 13);
  await backup(repo, { paths: [src] });
  fs.rmSync(join(src, "gone"), { recursive: true });
  write("new/d.bin", 500_000, 14);
  await backup(repo, { paths: [src] });
  const first = (await repo.snapshots())[0];
  await forgetOne(repo, first);
  await repo.storage.close();
  return { dir, src, name: src.split("/").pop()! };
}

async function assertConsistent(dir: string, src: string, name: string) {
  const repo = await reopen(dir);
  try {
    const result = await check(repo);
    assert.deepEqual(result.problems, []);
  } finally {
    await repo.storage.close();
  }
  const target = await tempDir();
  await restoreLatest(dir, target);
  assert.deepEqual(describeTree(join(target, name)), describeTree(src));
}

Deno.test("gc compact stopped after copying, then run again", async () => {
  const { dir, src, name } = await lifecycleRepo();
  let repo = await reopen(dir);
  const plan = await planCompact(repo, { table, to: "internet", all: true });
  assert.ok(plan.repack.length >= 1 && plan.drop.length >= 1);
  await assert.rejects(
    executeCompact(repo, compactWork(plan), (step) => {
      if (step === "copied") throw new Stop();
    }),
    Stop,
  );
  await repo.storage.close();
  await assertConsistent(dir, src, name);

  // The stopped run's copies are not attested (its superseding segment was never written), so
  // the rerun copies again, into packs it attests (docs/gc.md "Trust")...
  repo = await reopen(dir);
  const again = await planCompact(repo, { table, to: "internet", all: true });
  const result = await executeCompact(repo, compactWork(again));
  assert.ok(result.retired >= plan.drop.length + plan.repack.length);
  await repo.storage.close();
  await assertConsistent(dir, src, name);
  // ...and the next compaction drops the unattested copies unread.
  repo = await reopen(dir);
  const third = await planCompact(repo, { table, to: "internet", all: true });
  assert.ok(third.drop.length >= 1, "the stopped run's packs are dropped");
  const last = await executeCompact(repo, compactWork(third));
  assert.equal(last.copiedBlobs, 0, "nothing copied a third time");
  await repo.storage.close();
  await assertConsistent(dir, src, name);
});

Deno.test("gc purge stopped after each of its store calls in turn, then finished", async () => {
  const { dir, src, name } = await lifecycleRepo();
  let repo = await reopen(dir);
  await executeCompact(
    repo,
    compactWork(await planCompact(repo, { table, to: "internet", all: true })),
  );
  await repo.storage.close();
  const options = { table, graceMs: 0, acceptEarlyFee: true };

  let stops = 0;
  for (;;) {
    repo = await reopen(dir);
    const plan = await planPurge(repo, options);
    const steps = plan.delete.length + plan.segments.length + plan.strayCopies.length;
    if (steps === 0) break;
    await assert.rejects(executePurge(repo, plan, () => Promise.reject(new Stop())), Stop);
    await repo.storage.close();
    stops++;
    await assertConsistent(dir, src, name);
    assert.ok(stops < 100, "every stopped run makes progress");
  }
  assert.ok(stops >= 3, `purge had several steps to stop at (${stops})`);
  repo = await reopen(dir);
  const names = (await repo.storage.list("")).map((o) => o.name);
  await repo.storage.close();
  // Every pack left is indexed again by the effective index: mark finds no orphan.
  const after = await reopen(dir);
  await after.loadIndex();
  const indexed = new Set([...after.index.packs()].map((p) => `packs/${p.id}`));
  await after.storage.close();
  assert.deepEqual(names.filter((n) => n.startsWith("packs/") && !indexed.has(n)), []);
});

Deno.test("gc purge rescues a retired pack that a snapshot needs again, and deletes the rest", async () => {
  // Snapshot 1 is forgotten, compacted away, then its manifest reappears (re-uploaded from an
  // old copy of the bucket): the same situation as a backup that deduplicated against the
  // index as it was before the compaction.
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  fs.mkdirSync(join(src, "old"));
  fs.writeFileSync(join(src, "old/x.bin"), randomBytes(1_800_000, 21));
  fs.writeFileSync(join(src, "keep.bin"), randomBytes(400_000, 22));
  await backup(repo, { paths: [src] });
  const copy = await tempDir();
  fs.cpSync(src, join(copy, "v1"), { recursive: true, preserveTimestamps: true });
  fs.rmSync(join(src, "old"), { recursive: true });
  await backup(repo, { paths: [src] });
  const first = (await repo.snapshots())[0];
  const manifest = await repo.storage.read(`snapshots/${first.id}`);
  await forgetOne(repo, first);
  const plan = await planCompact(repo, { table, to: "internet", all: true });
  const compacted = await executeCompact(repo, compactWork(plan));
  assert.ok(compacted.retired >= 2);
  await repo.storage.create(`snapshots/${first.id}`, manifest);
  await repo.storage.close();

  const admin = await reopen(dir);
  const purge = await planPurge(admin, { table, graceMs: 0, acceptEarlyFee: true });
  assert.ok(purge.rescue.length >= 1, "the old snapshot's packs are rescued");
  const rescued = new Set(purge.rescue.map((p) => p.pack));
  assert.ok(purge.delete.every((c) => !rescued.has(c.pack)));
  await executePurge(admin, purge);
  await admin.storage.close();

  const after = await reopen(dir);
  try {
    assert.deepEqual((await check(after)).problems, []);
    const snaps = await after.snapshots();
    assert.equal(snaps.length, 2);
  } finally {
    await after.storage.close();
  }
  // Both snapshots restore byte-exact.
  const { executeRestore } = await import("../host/ops/restore.ts");
  const { planRestore } = await import("../host/ops/restore_plan.ts");
  const reader = await reopen(dir);
  try {
    const old = await reader.snapshot(first.id);
    const target = await tempDir();
    await executeRestore(reader, await planRestore(reader, old.id, old.manifest.root, "/"), {
      target,
    });
    const name = src.split("/").pop()!;
    // Files byte-exact (the copy of v1 could not keep its folders' times, so folders are left
    // out of the comparison).
    const files = (tree: Record<string, string>) =>
      Object.entries(tree).filter(([, d]) => d.startsWith("file "));
    assert.deepEqual(
      files(describeTree(join(target, name))),
      files(describeTree(join(copy, "v1"))),
    );
  } finally {
    await reader.storage.close();
  }
});

Deno.test("gc purge: young packs wait on a store that bills minimum durations, not on one that bills nothing", async () => {
  const { dir } = await lifecycleRepo();
  const repo = await reopen(dir);
  try {
    await executeCompact(
      repo,
      compactWork(await planCompact(repo, { table, to: "internet", all: true })),
    );
    const billed = await planPurge(repo, { table, graceMs: 0 });
    assert.equal(billed.delete.length, 0);
    assert.ok(billed.young.length >= 2);
    assert.ok(
      billed.young.every((c) => c.freeOn !== undefined && c.storageClass === "DEEP_ARCHIVE"),
    );
    const free = await planPurge(repo, { table, graceMs: 0, minimumDurations: false });
    assert.equal(free.young.length, 0);
    assert.equal(free.delete.length, billed.young.length);
    assert.equal(free.earlyFeeUsd, 0);
  } finally {
    await repo.storage.close();
  }
});
