/**
 * What garbage collection trusts (docs/gc.md "Trust"), against the attacks and races a review
 * found: an ingest client's forged index segment cannot get live data packs deleted; a
 * compaction after `gc index` still gets its grace period; and a hot copy a backup is writing is
 * not deleted as a stray.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../host/crypto/hash.ts";
import { shippedPriceTable } from "../host/cost/price_table.ts";
import { backup } from "../host/ops/backup.ts";
import { check } from "../host/ops/check.ts";
import { compactWork, planCompact } from "../host/ops/gc_compact.ts";
import { executeCompact } from "../host/ops/gc_compact_execute.ts";
import { liveBlobs, markRepository } from "../host/ops/gc_mark.ts";
import { executePurge, planPurge } from "../host/ops/gc_purge.ts";
import { consolidateIndex } from "../host/ops/index_consolidate.ts";
import {
  encodeIndexSegment,
  type IndexedPack,
  openIndexSegment,
} from "../host/repository/index_segment.ts";
import { encodeKeyExport } from "../host/repository/keyfile.ts";
import { toIngestKeys } from "../host/repository/keys.ts";
import { layout } from "../host/repository/layout.ts";
import { objectPath } from "../plugins/storage/local/object_path.ts";
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
const DAY = 86_400_000;

Deno.test("a forged segment from an ingest client cannot get live data packs retired or deleted", async () => {
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  await Deno.writeFile(`${src}/a.bin`, randomBytes(1_500_000, 3));
  await backup(repo, { paths: [src] });
  await repo.storage.close();

  // The ingest client may read index/* and write segments: one naming fake packs that "hold"
  // every data blob, newer than the real ones so the index prefers its locations (the real ones
  // are dated a minute back, so "newer" does not depend on the clock moving on).
  const ingest = await reopen(dir, {
    keyFile: encodeKeyExport(toIngestKeys(repo.keys), repo.config.id),
  }, "ingest");
  const fakes: IndexedPack[] = [];
  const realData: string[] = [];
  const earlier = new Date(Date.now() - 60_000);
  for (const o of await ingest.storage.list(layout.prefixes.index)) {
    fs.utimesSync(join(dir, objectPath(o.name)), earlier, earlier);
    for (
      const p of openIndexSegment(ingest.keys.indexKey, await ingest.storage.read(o.name)).packs
    ) {
      if (p.metadata) continue;
      realData.push(p.pack);
      fakes.push({ ...p, pack: sha256Hex(new TextEncoder().encode("fake" + p.pack)) });
    }
  }
  const forged = encodeIndexSegment(ingest.keys.indexKey, fakes, {
    level: ingest.config.compression.level,
  });
  await ingest.storage.create(layout.index(sha256Hex(forged)), forged.slice());
  await ingest.storage.close();

  const admin = await reopen(dir);
  const plan = await planCompact(admin, { table, to: "internet", all: true });
  for (const p of plan.drop) assert.ok(!realData.includes(p.id), "a real data pack is not dropped");
  await executeCompact(admin, compactWork(plan));
  await executePurge(admin, await planPurge(admin, { table, graceMs: 0, acceptEarlyFee: true }));
  // The real packs hold live blobs (the fake packs' claims do not make them dead): still there.
  for (const id of realData) assert.ok(await admin.storage.stat(layout.pack(id)), id);
  await admin.storage.close();

  // The data is still there. The forged, newer locations come first, but a restore that finds
  // their packs missing reads the real copies (docs/security.md "Poison deduplication").
  const target = await tempDir();
  const { plan: restorePlan } = await restoreLatest(dir, target);
  assert.ok(restorePlan.packs.some((p) => !realData.includes(p.pack)), "planned from fakes");
  assert.deepEqual(
    describeTree(join(target, src.split("/").pop()!)),
    describeTree(src),
  );
  const after = await reopen(dir);
  try {
    const problems = (await check(after)).problems;
    // The forged segment's fake packs are reported missing; nothing real is.
    assert.ok(problems.some((p) => p.pack !== undefined && !realData.includes(p.pack)));
    assert.ok(problems.every((p) => p.pack === undefined || !realData.includes(p.pack)));
  } finally {
    await after.storage.close();
  }
});

Deno.test("a forged claim that an attested pack holds a pack's blobs does not make them dead, nor that pack dropped", async () => {
  const { dir, repo } = await newRepo();
  const first = await tempDir();
  await Deno.writeFile(`${first}/a.bin`, randomBytes(300_000, 1));
  await backup(repo, { paths: [first] });
  // A compaction writes the first backup's data again, into a pack its segment attests.
  const old = [...repo.index.packs()].filter((p) => !p.metadata).map((p) => p.id);
  await executeCompact(repo, {
    repack: old.map((id) => ({ id, metadata: false })),
    drop: [],
    live: await liveBlobs(repo, await repo.snapshots()),
  });
  const attested = [...repo.attestedPacks()].find((id) => !repo.index.pack(id)!.metadata)!;
  const second = await tempDir();
  await Deno.writeFile(`${second}/b.bin`, randomBytes(300_000, 2));
  await backup(repo, { paths: [second] });
  await repo.storage.close();

  // The ingest client claims the attested pack holds the second backup's data, and names that
  // backup's pack again with no blobs at all.
  const ingest = await reopen(dir, {
    keyFile: encodeKeyExport(toIngestKeys(repo.keys), repo.config.id),
  }, "ingest");
  const records: IndexedPack[] = [];
  for (const o of await ingest.storage.list(layout.prefixes.index)) {
    records.push(
      ...openIndexSegment(ingest.keys.indexKey, await ingest.storage.read(o.name)).packs,
    );
  }
  const target = records.find((p) => !p.metadata && p.pack !== attested && !old.includes(p.pack))!;
  const honest = records.find((p) => p.pack === attested)!;
  const forged = encodeIndexSegment(ingest.keys.indexKey, [
    // a version-1 segment carries no attestation: the claim is only where the blobs are
    { pack: honest.pack, metadata: false, length: honest.length, blobs: target.blobs },
    { ...target, blobs: [] },
  ], { level: ingest.config.compression.level });
  await ingest.storage.create(layout.index(sha256Hex(forged)), forged);
  await ingest.storage.close();

  const admin = await reopen(dir);
  try {
    const usage = (await markRepository(admin)).packs.find((p) => p.id === target.pack)!;
    assert.deepEqual([usage.deadBlobs, usage.deadBytes], [0, 0], "the claim proves nothing");
    const plan = await planCompact(admin, { table, to: "internet", all: true });
    assert.ok(!plan.drop.some((p) => p.id === target.pack), "not dropped unread");
    await executeCompact(admin, compactWork(plan));
    await executePurge(admin, await planPurge(admin, { table, graceMs: 0, acceptEarlyFee: true }));
    assert.ok(await admin.storage.stat(layout.pack(target.pack)), "still stored");
  } finally {
    await admin.storage.close();
  }
});

Deno.test("a compaction after gc index still waits out the grace period before purge deletes", async () => {
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  fs.mkdirSync(join(src, "keep"));
  fs.mkdirSync(join(src, "gone"));
  fs.writeFileSync(join(src, "keep/a.bin"), randomBytes(900_000, 11));
  fs.writeFileSync(join(src, "gone/b.bin"), randomBytes(1_800_000, 12));
  await backup(repo, { paths: [src] });
  fs.rmSync(join(src, "gone"), { recursive: true });
  await backup(repo, { paths: [src] });
  assert.ok((await consolidateIndex(repo)).segment, "gc index ran");
  // Everything so far (the backups and the gc index) is ten days old.
  const old = new Date(Date.now() - 10 * DAY);
  for (const o of await repo.storage.list("")) {
    if (!o.name.startsWith("snapshots/")) fs.utimesSync(join(dir, objectPath(o.name)), old, old);
  }
  const first = (await repo.snapshots())[0];
  await forgetOne(repo, first);
  await repo.storage.close();

  const admin = await reopen(dir);
  try {
    const compacted = await executeCompact(
      admin,
      compactWork(await planCompact(admin, { table, to: "internet", all: true })),
    );
    assert.ok(compacted.retired >= 1);
    const purge = await planPurge(admin, { table, minimumDurations: false });
    assert.equal(purge.delete.length, 0, "retired just now: inside the grace period");
    assert.equal(purge.grace.length, compacted.retired);
  } finally {
    await admin.storage.close();
  }
});

Deno.test("purge leaves a hot copy whose pack a backup may be writing, within the grace period", async () => {
  const { repo } = await newRepo();
  const src = await tempDir();
  await Deno.writeFile(`${src}/a.bin`, randomBytes(300_000, 5));
  await backup(repo, { paths: [src] });
  // A metadata pack's hot copy without its cold pack: what a purge may list between a
  // backup's `packs/<id>` and its segment, or a stray a stopped purge left.
  const meta = (await repo.storage.list(layout.prefixes.meta))[0].name;
  const copy = await repo.storage.read(meta);
  const id = meta.slice(layout.prefixes.meta.length);
  const stray = copy.slice();
  stray[stray.length - 1] ^= 1; // another id: a copy no pack or segment has
  const strayName = layout.metaCopy(sha256Hex(stray));
  await repo.storage.create(strayName, stray);
  try {
    const fresh = await planPurge(repo, { table });
    assert.ok(!fresh.strayCopies.includes(strayName), "a fresh copy waits for the grace period");
    const later = await planPurge(repo, { table, now: new Date(Date.now() + 2 * DAY) });
    assert.ok(later.strayCopies.includes(strayName), "an old stray copy goes");
    assert.ok(!later.strayCopies.includes(layout.metaCopy(id)), "an indexed pack's copy stays");
  } finally {
    await repo.storage.close();
  }
});

Deno.test("compact refuses to retire a pack a snapshot written during its restore wait needs", async () => {
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  const moved = join(await tempDir(), "x.bin");
  fs.writeFileSync(join(src, "keep.bin"), randomBytes(400_000, 1));
  fs.writeFileSync(join(src, "x.bin"), randomBytes(1_800_000, 2));
  await backup(repo, { paths: [src] });
  fs.renameSync(join(src, "x.bin"), moved);
  await backup(repo, { paths: [src] });
  await forgetOne(repo, (await repo.snapshots())[0]);
  await repo.storage.close();

  const admin = await reopen(dir);
  try {
    const plan = await planCompact(admin, { table, to: "internet", all: true });
    assert.ok(plan.drop.length >= 1, "x.bin's packs are dead at plan time");
    // While gc compact --wait waits for restores, the file comes back and a backup reuses it.
    fs.renameSync(moved, join(src, "x.bin"));
    const other = await reopen(dir);
    await backup(other, { paths: [src] });
    await other.storage.close();
    await assert.rejects(
      executeCompact(admin, compactWork(plan)),
      /needed by a snapshot but was not copied.*nothing was retired: run gc compact again/,
    );
  } finally {
    await admin.storage.close();
  }
  const target = await tempDir();
  await restoreLatest(dir, target);
  assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
});
