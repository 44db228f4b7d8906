import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { CapabilityRefused, ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { newRepo, PASSWORD, randomBytes, reopen, tempDir } from "../../test/helpers.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { blobId } from "../crypto/mac.ts";
import { adminTagKey, encodeIndexSegment } from "../repository/index_segment.ts";
import { layout } from "../repository/layout.ts";
import { type BlobLocation, PackWriter } from "../repository/pack.ts";
import { decodePackIndex } from "../repository/pack_index.ts";
import { encodeKeyExport } from "../repository/keyfile.ts";
import { toIngestKeys } from "../repository/keys.ts";
import { backup } from "./backup.ts";
import { executeCompact } from "./gc_compact_execute.ts";
import { liveBlobs, markRepository, packUsage, recommend, withoutLive } from "./gc_mark.ts";
import { loadMark, saveMark } from "./gc_mark_store.ts";

const ID = (n: number) => n.toString(16).padStart(64, "0");

function blob(n: number, frameOffset: number, frameLength: number, length: number): BlobLocation {
  return { id: ID(n), type: "data", frameOffset, frameLength, offsetInFrame: 0, length };
}

Deno.test("packUsage shares each frame among its blobs by plaintext length, overhead live", () => {
  // Pack of 1,000 bytes: frame A (88+300) holds blobs of 100 and 300 plaintext bytes, frame B
  // (388+200) one blob; the other 500 bytes are header, TOC and trailer.
  const blobs = [blob(1, 88, 300, 100), blob(2, 88, 300, 300), blob(3, 388, 200, 50)];
  const usage = packUsage(
    { id: ID(9), metadata: false, length: 1000 },
    blobs,
    (b) => b.id !== ID(2),
  );
  // live: 300 × 100/400 + 200 + 500 overhead = 775
  assert.deepEqual(usage, {
    id: ID(9),
    metadata: false,
    length: 1000,
    liveBlobs: 2,
    deadBlobs: 1,
    liveBytes: 775,
    deadBytes: 225,
  });
});

Deno.test("packUsage counts a pack without a live blob dead for its whole length", () => {
  const usage = packUsage(
    { id: ID(9), metadata: true, length: 700 },
    [blob(1, 88, 300, 0), blob(2, 88, 300, 0)],
    () => false,
  );
  assert.equal(usage.liveBytes, 0);
  assert.equal(usage.deadBytes, 700);
  assert.equal(usage.deadBlobs, 2);
  // Empty blobs share their frame equally.
  const half = packUsage({ id: ID(9), metadata: true, length: 700 }, [
    blob(1, 88, 300, 0),
    blob(2, 88, 300, 0),
  ], (b) => b.id === ID(1));
  assert.equal(half.deadBytes, 150);
});

Deno.test("recommend compacts only over the threshold, and never without a share", () => {
  assert.equal(recommend(0.25, 20).compact, true);
  assert.match(recommend(0.25, 20).reason, /25\.0% of the monthly bill, over the 20% threshold/);
  assert.equal(recommend(0.2, 20).compact, false);
  assert.equal(recommend(0, 0).compact, false);
  assert.equal(recommend(null, 0).compact, false);
});

/** Two snapshots of a folder: the second after one file was replaced. */
async function twoSnapshots() {
  const { dir, repo, cacheDir } = await newRepo();
  const src = join(await tempDir(), "src");
  fs.mkdirSync(join(src, "keep", "deep"), { recursive: true });
  fs.writeFileSync(join(src, "keep", "deep", "same.bin"), randomBytes(300_000, 3));
  fs.writeFileSync(join(src, "changing.bin"), randomBytes(400_000, 4));
  const first = await backup(repo, { paths: [src], cacheDir });
  fs.writeFileSync(join(src, "changing.bin"), randomBytes(400_000, 5));
  const second = await backup(repo, { paths: [src], cacheDir });
  return { dir, repo, first: first.id!, second: second.id! };
}

Deno.test("markRepository counts the blobs only a forgotten snapshot needed as dead", async () => {
  const { repo, first } = await twoSnapshots();
  try {
    const all = await markRepository(repo);
    assert.equal(all.snapshots, 2);
    assert.equal(all.blobs.dead, 0);
    assert.equal(all.blobs.live, repo.index.blobCount);
    assert.ok(all.packs.every((p) => p.deadBytes === 0 && p.liveBytes === p.length));

    const firstEntry = await repo.snapshot(first);
    const firstBlobs = await liveBlobs(repo, [firstEntry]);
    await repo.storage.delete(layout.snapshot(first));
    const after = await markRepository(repo);
    const onlyFirst = [...firstBlobs].filter((id) => !after.live.has(id));
    assert.ok(onlyFirst.length > 0);
    assert.equal(after.blobs.dead, onlyFirst.length);
    // Dead bytes are in exactly the packs that hold those blobs, and each pack adds up.
    const holding = new Set(onlyFirst.map((id) => repo.index.get(id)!.pack));
    for (const p of after.packs) {
      assert.equal(p.liveBytes + p.deadBytes, p.length);
      assert.equal(p.deadBytes > 0, holding.has(p.id), p.id);
    }
    assert.ok(after.tiers.cold.deadBytes > 0);
    assert.equal(
      after.tiers.cold.liveBytes + after.tiers.cold.deadBytes,
      [...repo.index.packs()].reduce((s, p) => s + p.length, 0),
    );
    const meta = after.packs.filter((p) => p.metadata);
    assert.equal(after.tiers.hot.deadBytes, meta.reduce((s, p) => s + p.deadBytes, 0));
    // Among the dead: the first snapshot's details blob, its root tree and the old file's data.
    assert.ok(onlyFirst.includes(firstEntry.manifest.details));
    assert.ok(onlyFirst.includes(firstEntry.manifest.root));
    assert.ok(onlyFirst.some((id) => repo.index.get(id)?.type === "data"));
    assert.equal("live" in withoutLive(after), false);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("liveBlobs reads a tree shared by several snapshots once", async () => {
  const { repo } = await twoSnapshots();
  try {
    const snapshots = await repo.snapshots();
    const reads: string[] = [];
    const readBlob = repo.readBlob.bind(repo);
    repo.readBlob = (id: string) => (reads.push(id), readBlob(id));
    const live = await liveBlobs(repo, snapshots);
    const both = reads.length;
    assert.equal(new Set(reads).size, both, "no tree was read twice");
    // Walked alone, each snapshot reads all its trees; together, the unchanged folders' trees
    // ("keep", "keep/deep") are read once.
    const alone: number[] = [];
    for (const s of snapshots) {
      reads.length = 0;
      const own = await liveBlobs(repo, [s]);
      alone.push(reads.length);
      assert.ok([...own].every((id) => live.has(id)));
    }
    assert.equal(both, alone[0] + alone[1] - 2, `${both} reads, ${alone} alone`);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("a needed blob stored in two packs no admin run attests is live in both; an unneeded one is dead", async () => {
  const { dir, repo } = await twoSnapshots();
  const data = [...repo.index.blobs()].find((b) => b.type === "data")!;
  const plain = (await repo.readBlob(data.id)).slice();
  // A second client stored the same blob again, in a pack of its own with one unique blob.
  const writer = new PackWriter({
    publicKey: repo.keys.publicKey,
    metadata: false,
    frameSize: 64 << 10,
    level: 3,
  });
  writer.add(data.id, "data", plain);
  const stray = randomBytes(1000, 77);
  writer.add(blobId(repo.keys.macKey, stray), "data", stray);
  const pack = writer.finish();
  const packId = sha256Hex(pack.data);
  const length = pack.data.length;
  await repo.storage.create(layout.pack(packId), pack.data);
  const segment = encodeIndexSegment(repo.keys.indexKey, [
    { pack: packId, metadata: false, length, blobs: pack.blobs },
  ], { level: repo.config.compression.level });
  await repo.storage.create(layout.index(sha256Hex(segment)), segment);
  await repo.storage.close();

  const fresh = await reopen(dir);
  try {
    const report = await markRepository(fresh);
    const extra = report.packs.find((p) => p.id === packId)!;
    assert.equal(extra.length, length);
    // Both copies of the needed blob are live (a backup's locality copy is not dead data,
    // docs/format.md §7.2), wherever the index maps it; the unneeded blob is dead.
    assert.deepEqual([extra.liveBlobs, extra.deadBlobs], [1, 1]);
    assert.ok(extra.deadBytes > 0 && extra.liveBytes > 0);
    const original = report.packs.find((p) => p.id === data.pack)!;
    assert.equal(original.deadBlobs, 0);
    assert.equal(original.deadBytes, 0);
    assert.equal(report.blobs.dead, 1);

    // A compaction writes the needed blob again, into a pack its segment attests: now the
    // copies in unattested packs are the dead ones, as a later compaction would skip them.
    const compacted = await executeCompact(fresh, {
      repack: [{ id: packId, metadata: false }],
      drop: [],
      live: report.live,
    });
    assert.equal(compacted.copiedBlobs, 1);
    const after = await markRepository(fresh);
    const usage = (id: string) => after.packs.find((p) => p.id === id);
    assert.equal(usage(packId), undefined, "retired");
    assert.equal(usage(data.pack)!.deadBlobs, 1);
    const written = after.packs.filter((p) => !p.metadata && usage(p.id) && p.id !== data.pack)
      .filter((p) => !report.packs.some((q) => q.id === p.id));
    assert.equal(written.length, 1);
    assert.deepEqual([written[0].liveBlobs, written[0].deadBlobs], [1, 0]);
  } finally {
    await fresh.storage.close();
  }
});

Deno.test("a pack-index blob is live while a data pack it names holds live data", async () => {
  const { repo, cacheDir } = await newRepo();
  try {
    const folder = async (seed: number) => {
      const dir = join(await tempDir(), `src${seed}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(join(dir, "f.bin"), randomBytes(200_000, seed));
      return (await backup(repo, { paths: [dir], cacheDir })).id!;
    };
    const gone = await folder(21);
    await folder(22);
    await repo.storage.delete(layout.snapshot(gone));
    const report = await markRepository(repo);
    const indexes = [...repo.index.blobs()].filter((b) => b.type === "pack-index");
    assert.equal(indexes.length, 2, "one pack-index blob per backup run");
    const usage = new Map(report.packs.map((p) => [p.id, p]));
    for (const b of indexes) {
      const named = decodePackIndex(await repo.readBlob(b.id));
      const needed = named.some((p) => usage.get(p.pack)!.liveBlobs > 0);
      assert.equal(report.packIndexes.has(b.id), needed, b.id);
      assert.equal(report.live.has(b.id), false, "snapshots do not reach pack-index blobs");
    }
    assert.deepEqual(
      indexes.map((b) => report.packIndexes.has(b.id)).sort(),
      [false, true],
      "the forgotten run's data pack is all dead, and so is the blob naming it",
    );
  } finally {
    await repo.storage.close();
  }
});

Deno.test("markRepository reports pack objects no index segment names as orphans", async () => {
  const { repo } = await twoSnapshots();
  try {
    const bytes = randomBytes(5000, 9);
    const id = sha256Hex(bytes);
    await repo.storage.create(layout.pack(id), bytes.slice());
    await repo.storage.create(layout.metaCopy(id), bytes.slice());
    const report = await markRepository(repo);
    assert.deepEqual(
      report.orphans.map((o) => [o.name, o.reason, o.tier, o.bytes]),
      [[`meta/${id}`, "orphan", "hot", 5000], [`packs/${id}`, "orphan", "cold", 5000]],
    );
    assert.equal(report.tiers.cold.orphanBytes, 5000);
    assert.equal(report.tiers.hot.orphans, 1);
    assert.ok(report.packs.every((p) => p.id !== id));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("markRepository reports the packs a superseding segment retired as retired, not orphans", async () => {
  const { dir, repo, cacheDir } = await newRepo();
  const folder = async (seed: number) => {
    const src = join(await tempDir(), `src${seed}`);
    fs.mkdirSync(src);
    fs.writeFileSync(join(src, "f.bin"), randomBytes(100_000, seed));
    return (await backup(repo, { paths: [src], cacheDir })).id!;
  };
  const segmentIds = async () =>
    (await repo.storage.list(layout.prefixes.index)).map((o) => o.name.slice(6));
  const gone = await folder(31);
  const firstSegments = await segmentIds();
  const firstPacks = [...repo.index.packs()];
  await folder(32);
  await repo.storage.delete(layout.snapshot(gone));
  // What gc compact does for packs without live blobs: a segment superseding theirs.
  const segment = encodeIndexSegment(repo.keys.indexKey, [], {
    level: repo.config.compression.level,
    supersession: { supersedes: firstSegments, adminTagKey: adminTagKey(repo.keys.privateKey!) },
  });
  await repo.storage.create(layout.index(sha256Hex(segment)), segment);
  await repo.storage.close();

  const fresh = await reopen(dir);
  try {
    const report = await markRepository(fresh);
    const expected = firstPacks.flatMap((p) =>
      p.metadata ? [`meta/${p.id}`, `packs/${p.id}`] : [`packs/${p.id}`]
    );
    assert.deepEqual(report.orphans.map((o) => o.name), expected.sort());
    assert.ok(report.orphans.every((o) => o.reason === "retired"));
    assert.ok(report.packs.every((p) => !firstPacks.some((f) => f.id === p.id)));
    assert.equal(report.blobs.dead, 0, "the effective index holds only the live snapshot's packs");
  } finally {
    await fresh.storage.close();
  }
});

Deno.test("markRepository stops when a snapshot's tree is in no indexed pack", async () => {
  const { dir, repo } = await twoSnapshots();
  await repo.storage.close();
  // Drop the index segments: every tree is then unknown.
  for (const f of fs.readdirSync(join(dir, "index"))) fs.rmSync(join(dir, "index", f));
  const fresh = await reopen(dir);
  try {
    await assert.rejects(
      markRepository(fresh),
      (err) =>
        err instanceof ObjectNotFound && /needs tree .* no index segment names/.test(err.message),
    );
  } finally {
    await fresh.storage.close();
  }
});

Deno.test("markRepository refuses an ingest key and a reader role before listing anything", async () => {
  const { dir, repo } = await newRepo();
  await repo.storage.close();
  const keyFile = encodeKeyExport(toIngestKeys(repo.keys), repo.config.id);
  for (
    const r of [
      await reopen(dir, { keyFile }, "ingest"),
      await reopen(dir, { passphrase: PASSWORD }, "reader"),
    ]
  ) {
    let listed = 0;
    const list = r.storage.list.bind(r.storage);
    r.storage.list = (prefix) => (listed++, list(prefix));
    try {
      await assert.rejects(markRepository(r), CapabilityRefused);
      assert.equal(listed, 0);
    } finally {
      await r.storage.close();
    }
  }
});

Deno.test("a saved mark reads back without its live set; none is null, a damaged one an error", async () => {
  const dir = await tempDir();
  const repository = "ab".repeat(32);
  assert.equal(loadMark(repository, dir), null);
  const report = {
    version: 1 as const,
    repository,
    time: "2026-11-26T12:00:00.000Z",
    snapshots: 1,
    blobs: { live: 1, dead: 0, missing: 0 },
    tiers: {
      cold: { packs: 1, liveBytes: 10, deadBytes: 0, orphans: 0, orphanBytes: 0 },
      hot: { packs: 0, liveBytes: 0, deadBytes: 0, orphans: 0, orphanBytes: 0 },
    },
    packs: [{
      id: ID(1),
      metadata: false,
      length: 10,
      liveBlobs: 1,
      deadBlobs: 0,
      liveBytes: 10,
      deadBytes: 0,
    }],
    orphans: [],
    live: new Set([ID(2)]),
    packIndexes: new Set<string>(),
  };
  const path = saveMark(withoutLive(report), dir);
  assert.equal(path, join(dir, `${repository}.json`));
  assert.deepEqual(loadMark(repository, dir), withoutLive(report));
  assert.deepEqual(fs.readdirSync(dir), [`${repository}.json`], "no temporary file is left");
  fs.writeFileSync(path, "{not json");
  assert.throws(() => loadMark(repository, dir), /saved gc mark .* is not JSON/);
  fs.writeFileSync(path, JSON.stringify({ ...withoutLive(report), repository: "cd".repeat(32) }));
  assert.throws(() => loadMark(repository, dir), /not a version 1 report of this repository/);
});
