/**
 * Restore locality end to end (docs/format.md §7.2): the dedup engine marks directories, the
 * backup gives a large enough directory packs of its own and stores a small file copied from
 * another directory once more near it, and a restore of that directory then needs only its own
 * packs. Earlier runs' blobs are never stored again.
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { backup } from "../host/ops/backup.ts";
import { dirMarks } from "../host/ops/dir_marks.ts";
import { markRepository } from "../host/ops/gc_mark.ts";
import { executeRestore } from "../host/ops/restore.ts";
import { planRestore } from "../host/ops/restore_plan.ts";
import { sha256Hex } from "../host/crypto/hash.ts";
import { encodeIndexSegment } from "../host/repository/index_segment.ts";
import { layout } from "../host/repository/layout.ts";
import { ObjectNotFound } from "../plugins/sdk/errors.ts";
import { cli, newRepo, randomBytes, reopen, restoreLatest, tempDir } from "./helpers.ts";

/** Data packs of 256 KiB: a directory adding 64 KiB (a quarter) gets packs of its own. */
const DATA_SIZE = 256 << 10;

function write(root: string, rel: string, data: Uint8Array): void {
  fs.mkdirSync(join(root, rel, ".."), { recursive: true });
  fs.writeFileSync(join(root, rel), data);
}

Deno.test("a file copied between two large directories is stored near each, so each restores from its own pack", async () => {
  const src = await tempDir();
  const shared = randomBytes(3000, 11);
  write(src, "a/shared.txt", shared);
  write(src, "a/fill.bin", randomBytes(100_000, 12));
  write(src, "b/copy.txt", shared);
  write(src, "b/fill.bin", randomBytes(100_000, 13));
  write(src, "b/again.txt", shared); // a second copy in b is not stored a third time
  const { dir, repo, cacheDir } = await newRepo({ dataSize: DATA_SIZE });
  const result = await backup(repo, { paths: [src], cacheDir });
  await repo.storage.close();
  assert.equal(result.upload.copies, 1, "one copy of shared.txt, for b");
  assert.equal(result.upload.copyBytes, shared.length);
  // New bytes: the files' 203,000 once each, and the trees; the copy is not new data.
  const trees = result.manifest.stats.newBytes - 203_000;
  assert.ok(trees > 0 && trees < shared.length, `${trees} bytes of trees`);

  const name = src.split("/").pop()!;
  const owner = await reopen(dir);
  try {
    const snap = await owner.snapshot("latest");
    const planOf = (p: string) => planRestore(owner, snap.id, snap.manifest.root, `/${name}/${p}`);
    const a = await planOf("a"), b = await planOf("b");
    assert.equal(a.packs.length, 1, "a sits in one pack");
    assert.equal(b.packs.length, 1, "b needs only its own pack, not a's for shared.txt");
    assert.notEqual(a.packs[0].pack, b.packs[0].pack, "a's end closed its pack");
    assert.ok(b.packBytes < 2 * b.bytes, `amplification ${b.packBytes / b.bytes}`);
    // The whole snapshot still reads each blob once.
    const all = await planRestore(owner, snap.id, snap.manifest.root);
    const blobs = all.packs.flatMap((p) => p.frames.flatMap((f) => f.blobs.map((x) => x.id)));
    assert.equal(new Set(blobs).size, blobs.length);
    // gc counts both copies of shared.txt live: right after a backup nothing is dead.
    const mark = await markRepository(owner);
    assert.equal(mark.blobs.dead, 0);
    assert.equal(mark.tiers.cold.deadBytes, 0);
  } finally {
    await owner.storage.close();
  }

  const target = await tempDir();
  await restoreLatest(dir, target, `/${name}/b`);
  assert.deepEqual(fs.readFileSync(join(target, "b/copy.txt")), Buffer.from(shared));
  assert.deepEqual(fs.readFileSync(join(target, "b/again.txt")), Buffer.from(shared));
  assert.deepEqual(
    fs.readFileSync(join(target, "b/fill.bin")),
    Buffer.from(randomBytes(100_000, 13)),
  );

  // A later run deduplicates against what earlier runs stored, whatever the locality.
  write(src, "c/copy.txt", shared);
  write(src, "c/fill.bin", randomBytes(100_000, 14));
  const again = await reopen(dir);
  try {
    const second = await backup(again, { paths: [src], cacheDir });
    assert.equal(second.upload.copies, 0, "blobs of earlier runs are never stored again");
    const trees = second.manifest.stats.newBytes - 100_000;
    assert.ok(trees > 0 && trees < shared.length, `only c/fill.bin is new, and trees (${trees})`);
  } finally {
    await again.storage.close();
  }
});

Deno.test("a restore whose pack is missing reads its blobs from other copies; a blob with none fails clearly", async () => {
  const src = await tempDir();
  const shared = randomBytes(3000, 21);
  write(src, "a/shared.txt", shared);
  write(src, "a/fill.bin", randomBytes(100_000, 22));
  write(src, "b/copy.txt", shared);
  write(src, "b/fill.bin", randomBytes(100_000, 23));
  const { dir, repo, cacheDir } = await newRepo({ dataSize: DATA_SIZE });
  assert.equal((await backup(repo, { paths: [src], cacheDir })).upload.copies, 1);
  await repo.storage.close();
  const name = src.split("/").pop()!;

  const owner = await reopen(dir);
  try {
    const snap = await owner.snapshot("latest");
    const planOf = (p: string) => planRestore(owner, snap.id, snap.manifest.root, `/${name}/${p}`);
    const one = await planOf("a/shared.txt");
    assert.equal(one.packs.length, 1);
    const chosen = one.packs[0].pack;
    await owner.storage.delete(layout.pack(chosen));

    const warnings: string[] = [];
    const target = await tempDir();
    await executeRestore(owner, one, { target, onWarning: (m) => warnings.push(m) });
    assert.deepEqual(fs.readFileSync(join(target, "shared.txt")), Buffer.from(shared));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /not found.*; 1 blobs are read from other copies/);

    // The fill file of the directory whose pack is gone has no other copy.
    const gone = (await planOf("a")).packs.some((p) => p.pack === chosen) ? "a" : "b";
    await assert.rejects(
      executeRestore(owner, await planOf(`${gone}/fill.bin`), { target: await tempDir() }),
      (err: Error) => err instanceof ObjectNotFound && err.message.includes(chosen),
    );
  } finally {
    await owner.storage.close();
  }
});

Deno.test("a restore reads a blob from its real copy when a forged entry points into a frame of a pack it reads anyway", async () => {
  const src = await tempDir();
  const files = { "a/fill.bin": 31, "b/small.bin": 32, "b/fill.bin": 33 } as const;
  for (const [rel, seed] of Object.entries(files)) {
    write(src, rel, randomBytes(rel.endsWith("small.bin") ? 20_000 : 100_000, seed));
  }
  const { dir, repo, cacheDir } = await newRepo({ dataSize: DATA_SIZE });
  await backup(repo, { paths: [src], cacheDir });
  const name = src.split("/").pop()!;
  const snap = await repo.snapshot("latest");
  const only = async (p: string) =>
    (await planRestore(repo, snap.id, snap.manifest.root, `/${name}/${p}`)).packs;
  const [a] = await only("a/fill.bin"), small = await only("b/small.bin");
  assert.equal(small.length, 1);
  assert.notEqual(a.pack, small[0].pack);
  // An ingest client claims a's pack also holds b/small.bin's one blob, at a's first frame.
  const real = small[0].frames[0].blobs[0];
  const length = repo.index.pack(a.pack)!.length;
  const claim = {
    ...real,
    frameOffset: a.frames[0].frameOffset, // an entry past a pack's end is refused when loaded
    frameLength: a.frames[0].frameLength,
    offsetInFrame: 0,
  };
  const segment = encodeIndexSegment(repo.keys.indexKey, [
    { pack: a.pack, metadata: false, length, blobs: [claim] },
  ], { level: repo.config.compression.level });
  await repo.storage.create(layout.index(sha256Hex(segment)), segment.slice());
  await repo.storage.close();

  const owner = await reopen(dir);
  try {
    const latest = await owner.snapshot("latest");
    const plan = await planRestore(owner, latest.id, latest.manifest.root, `/${name}`);
    // The copy cover takes either copy (both packs are needed anyway); make it the forged one.
    for (const p of plan.packs) {
      for (const f of p.frames) f.blobs = f.blobs.filter((x) => x.id !== real.id);
      p.frames = p.frames.filter((f) => f.blobs.length > 0);
    }
    const fromA = plan.packs.find((p) => p.pack === a.pack)!;
    fromA.frames.push({
      frameOffset: claim.frameOffset,
      frameLength: claim.frameLength,
      blobs: [{ ...claim, pack: a.pack, metadata: false }],
    });
    fromA.frames.sort((x, y) => x.frameOffset - y.frameOffset);
    assert.equal(owner.index.copies(real.id).length, 2, "the index knows both copies");
    const warnings: string[] = [];
    const target = await tempDir();
    await executeRestore(owner, plan, { target, onWarning: (m) => warnings.push(m) });
    for (const [rel, seed] of Object.entries(files)) {
      assert.deepEqual(
        fs.readFileSync(join(target, name, rel)),
        Buffer.from(randomBytes(rel.endsWith("small.bin") ? 20_000 : 100_000, seed)),
        rel,
      );
    }
    assert.ok(warnings.length >= 1, "the fallback is reported");
    assert.ok(warnings.every((m) => /read from other copies/.test(m)), warnings.join("\n"));
  } finally {
    await owner.storage.close();
  }
});

Deno.test("directories under the locality floor share packs: no pack is cut for them", async () => {
  const src = await tempDir();
  for (let i = 0; i < 6; i++) write(src, `d${i}/f.bin`, randomBytes(20_000, 30 + i));
  const { dir, repo, cacheDir } = await newRepo({ dataSize: DATA_SIZE });
  const result = await backup(repo, { paths: [src], cacheDir });
  await repo.storage.close();
  assert.equal(result.upload.copies, 0);
  const owner = await reopen(dir);
  try {
    const snap = await owner.snapshot("latest");
    const plan = await planRestore(owner, snap.id, snap.manifest.root);
    // 120 kB in directories of 20 kB each, under the 64 KiB floor: one data pack for all.
    assert.equal(plan.packs.filter((p) => !p.metadata).length, 1);
  } finally {
    await owner.storage.close();
  }
});

Deno.test("backup refuses directory marks out of order or out of range from an engine", () => {
  assert.deepEqual(dirMarks(undefined, 3), []);
  assert.deepEqual(dirMarks([{ at: 0, edge: "enter" }, { at: 3, edge: "leave" }], 3), [
    { at: 0, edge: "enter" },
    { at: 3, edge: "leave" },
  ]);
  for (
    const bad of [
      "x",
      [{ at: 4, edge: "enter" }],
      [{ at: 2, edge: "enter" }, { at: 1, edge: "leave" }],
      [{ at: 0.5, edge: "enter" }],
      [{ at: 0, edge: "sideways" }],
      [null],
      // deno-lint-ignore no-sparse-arrays
      [{ at: 0, edge: "enter" }, , { at: 1, edge: "leave" }],
      Array.from({ length: 10_000 }, () => ({ at: 0, edge: "enter" })),
    ]
  ) {
    assert.throws(() => dirMarks(bad, 3), TypeError, JSON.stringify(bad));
  }
});

Deno.test("backup --locality-floor gives smaller directories packs of their own; a bad size is a usage error", async () => {
  const src = await tempDir();
  for (let i = 0; i < 4; i++) write(src, `d${i}/f.bin`, randomBytes(120_000, 40 + i));
  const dataPacks = async (floor: string[]) => {
    const env = { PERMAFROST_REPO: join(await tempDir(), "repo") };
    const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
    assert.equal(init.code, 0, init.stderr);
    const b = await cli(["backup", src, "--json", ...floor], env);
    assert.equal(b.code, 0, b.stderr);
    const { upload } = JSON.parse(b.stdout);
    return upload.packs as number;
  };
  // Four directories of 120 kB in packs of 1 MiB: under the default floor (256 KiB) they share
  // one data pack; from a floor of 100 KiB each ends its own.
  assert.equal(await dataPacks([]), 1 + 2, "one data pack, two metadata packs");
  assert.equal(await dataPacks(["--locality-floor", "100KiB"]), 4 + 2);
  const bad = await cli(["backup", src, "--locality-floor", "lots"], {
    PERMAFROST_REPO: join(await tempDir(), "repo"),
  });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--locality-floor: size "lots"/);
});
