/**
 * The effective index (docs/format.md §7.1): a version-2 segment written with the admin tag
 * hides the segments it supersedes from every reader; one forged with the index key alone (what
 * an ingest client holds) hides nothing from a reader holding the private key.
 */

import assert from "node:assert/strict";
import { sha256Hex } from "../host/crypto/hash.ts";
import {
  adminTagKey,
  encodeIndexSegment,
  openIndexSegment,
} from "../host/repository/index_segment.ts";
import { encodeKeyExport } from "../host/repository/keyfile.ts";
import { toIngestKeys } from "../host/repository/keys.ts";
import { idOf, layout } from "../host/repository/layout.ts";
import { backup } from "../host/ops/backup.ts";
import { newRepo, randomBytes, reopen, tempDir } from "./helpers.ts";

Deno.test("a superseding segment takes its segments' packs out of the index", async () => {
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  await Deno.writeFile(`${src}/a.bin`, randomBytes(1_500_000, 3));
  await Deno.writeFile(`${src}/b.bin`, randomBytes(900_000, 4));
  await backup(repo, { paths: [src] });
  await repo.loadIndex();
  const segments = (await repo.storage.list(layout.prefixes.index)).map((o) => idOf(o.name));
  assert.ok(segments.length >= 2);
  const victim = segments[0];
  const victimPacks = openIndexSegment(
    repo.keys.indexKey,
    await repo.storage.read(layout.index(victim)),
  ).packs.map((p) => p.pack);

  // Forged: the index key as tag key. An admin reader ignores its supersession and says so.
  const forged = encodeIndexSegment(repo.keys.indexKey, [], {
    level: repo.config.compression.level,
    supersession: { supersedes: [victim], adminTagKey: repo.keys.indexKey },
  });
  await repo.storage.create(layout.index(sha256Hex(forged)), forged);
  const admin = await reopen(dir);
  await admin.loadIndex();
  for (const p of victimPacks) assert.ok(admin.index.pack(p), "forged supersession ignored");
  assert.ok(admin.warnings.some((w) => w.includes("without a valid admin tag")));
  await admin.storage.close();

  // Genuine: the packs of the superseded segment leave the effective index.
  const genuine = encodeIndexSegment(repo.keys.indexKey, [], {
    level: repo.config.compression.level,
    supersession: { supersedes: [victim], adminTagKey: adminTagKey(repo.keys.privateKey!) },
  });
  await repo.storage.create(layout.index(sha256Hex(genuine)), genuine);
  const again = await reopen(dir);
  await again.loadIndex();
  for (const p of victimPacks) assert.equal(again.index.pack(p), undefined);
  assert.ok(again.supersededSegments().has(victim));
  await again.storage.close();

  // A process that loaded the index before the supersession drops the packs on its next load.
  await repo.loadIndex();
  for (const p of victimPacks) assert.equal(repo.index.pack(p), undefined);
  assert.ok(repo.index.packCount > 0, "the other segments stay");

  // An ingest key cannot verify tags and honours every supersession (it only dedups less).
  const ingest = await reopen(dir, {
    keyFile: encodeKeyExport(toIngestKeys(repo.keys), repo.config.id),
  }, "ingest");
  await ingest.loadIndex();
  for (const p of victimPacks) assert.equal(ingest.index.pack(p), undefined);
  await ingest.storage.close();
  await repo.storage.close();
});

Deno.test("gc index consolidates the segments into one; purge then deletes the old ones and no pack", async () => {
  const { consolidateIndex } = await import("../host/ops/index_consolidate.ts");
  const { executePurge, planPurge } = await import("../host/ops/gc_purge.ts");
  const { shippedPriceTable } = await import("../host/cost/price_table.ts");
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  await Deno.writeFile(`${src}/a.bin`, randomBytes(2_500_000, 5));
  await backup(repo, { paths: [src] });
  await Deno.writeFile(`${src}/b.bin`, randomBytes(700_000, 6));
  await backup(repo, { paths: [src] });
  await repo.loadIndex();
  const before = { packs: repo.index.packCount, blobs: repo.index.blobCount };
  const segmentsBefore = (await repo.storage.list(layout.prefixes.index)).length;
  assert.ok(segmentsBefore >= 4);

  const result = await consolidateIndex(repo);
  assert.equal(result.segments, segmentsBefore);
  assert.equal(result.packs, before.packs);
  await repo.storage.close();

  const after = await reopen(dir);
  await after.loadIndex();
  assert.deepEqual({ packs: after.index.packCount, blobs: after.index.blobCount }, before);
  assert.equal(after.segments().length - after.supersededSegments().size, 1);
  const plan = await planPurge(after, { table: shippedPriceTable("us-east-1"), graceMs: 0 });
  assert.equal(plan.delete.length + plan.young.length, 0, "no pack is retired");
  assert.equal(plan.segments.length, segmentsBefore);
  await executePurge(after, plan);
  assert.equal((await after.storage.list(layout.prefixes.index)).length, 1);
  await after.storage.close();
  const last = await reopen(dir);
  await last.loadIndex();
  assert.deepEqual({ packs: last.index.packCount, blobs: last.index.blobCount }, before);
  assert.equal(last.warnings.length, 0);
  await last.storage.close();
});

Deno.test("a forged superseding segment attests nothing; the admin's own does", async () => {
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  await Deno.writeFile(`${src}/a.bin`, randomBytes(1_200_000, 8));
  await backup(repo, { paths: [src] });
  const [name] = await repo.storage.list(layout.prefixes.index);
  const record = openIndexSegment(repo.keys.indexKey, await repo.storage.read(name.name)).packs[0];
  const claim = [{ ...record, attested: true }];
  const forged = encodeIndexSegment(repo.keys.indexKey, claim, {
    level: repo.config.compression.level,
    supersession: { supersedes: [idOf(name.name)], adminTagKey: repo.keys.indexKey },
  });
  await repo.storage.create(layout.index(sha256Hex(forged)), forged);
  const { effectiveRecords } = await import("../host/ops/gc_records.ts");
  let admin = await reopen(dir);
  await admin.loadIndex();
  assert.equal(admin.attestedPacks().size, 0, "a tag that does not verify attests nothing");
  assert.ok((await effectiveRecords(admin)).every((s) => s.packs.every((p) => !p.attested)));
  await admin.storage.close();

  const genuine = encodeIndexSegment(repo.keys.indexKey, claim, {
    level: repo.config.compression.level,
    supersession: {
      supersedes: [idOf(name.name)],
      adminTagKey: adminTagKey(repo.keys.privateKey!),
    },
  });
  await repo.storage.create(layout.index(sha256Hex(genuine)), genuine);
  await repo.storage.close();
  admin = await reopen(dir);
  await admin.loadIndex();
  assert.deepEqual([...admin.attestedPacks()], [record.pack]);
  await admin.storage.close();
});

Deno.test("gc index leaves the segments of a pack that segments record differently as they are, so a forged record cannot replace the true one", async () => {
  const { consolidateIndex } = await import("../host/ops/index_consolidate.ts");
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  await Deno.writeFile(`${src}/a.bin`, randomBytes(1_200_000, 7));
  await backup(repo, { paths: [src] });
  await Deno.writeFile(`${src}/b.bin`, randomBytes(600_000, 8));
  await backup(repo, { paths: [src] });
  await repo.loadIndex();
  const blobsBefore = repo.index.blobCount;
  const data = [...repo.index.packs()].find((p) => !p.metadata)!;
  await repo.storage.close();

  // An ingest client names a real data pack again with none of its blobs. Its segment is the
  // newest, so a consolidation that kept one record per pack by load order would keep this one.
  const ingest = await reopen(dir, {
    keyFile: encodeKeyExport(toIngestKeys(repo.keys), repo.config.id),
  }, "ingest");
  const forged = encodeIndexSegment(ingest.keys.indexKey, [
    { pack: data.id, metadata: false, length: data.length, blobs: [] },
  ], { level: ingest.config.compression.level });
  const forgedId = sha256Hex(forged);
  await ingest.storage.create(layout.index(forgedId), forged);
  await ingest.storage.close();

  const admin = await reopen(dir);
  const result = await consolidateIndex(admin);
  assert.deepEqual(result.disputed, [data.id]);
  await admin.storage.close();
  const after = await reopen(dir);
  await after.loadIndex();
  const superseded = after.supersededSegments();
  assert.ok(!superseded.has(forgedId), "the forged segment stays as it is, for check to name");
  const holders = after.segments().filter((s) =>
    !superseded.has(s.id) && s.packs.includes(data.id)
  );
  assert.equal(holders.length, 2, "the true record stays effective beside the forged one");
  assert.equal(after.index.blobCount, blobsBefore, "no blob left the index");
  await after.storage.close();
});
