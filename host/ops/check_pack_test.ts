import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { newRepo, randomBytes, reopen, tempDir } from "../../test/helpers.ts";
import { objectPath } from "../../plugins/storage/local/object_path.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { encodeIndexSegment } from "../repository/index_segment.ts";
import { layout } from "../repository/layout.ts";
import { backup } from "./backup.ts";
import { check } from "./check.ts";

/** A repository with two backups (two data packs, two metadata packs), reopened. */
async function twoBackups() {
  const { dir, repo } = await newRepo();
  for (const seed of [1, 2]) {
    const src = await tempDir();
    await Deno.writeFile(join(src, "a.bin"), randomBytes(150_000, seed));
    await backup(repo, { paths: [src] });
  }
  await repo.storage.close();
  const admin = await reopen(dir);
  await admin.loadIndex();
  return { dir, repo: admin };
}

Deno.test("a hot copy holding another metadata pack's bytes is reported, and the pack's index entries are checked against its cold copy", async () => {
  const { dir, repo } = await twoBackups();
  try {
    const [a, b] = [...repo.index.packs()].filter((p) => p.metadata);
    const hot = join(dir, objectPath(layout.metaCopy(a.id)));
    fs.chmodSync(hot, 0o644);
    fs.copyFileSync(join(dir, objectPath(layout.metaCopy(b.id))), hot);

    const { problems, readPacks } = await check(repo, { readPacks: [a.id] });
    assert.equal(readPacks, 2, "both copies read");
    const read = problems.filter((p) => !/has \d+ bytes, the index says/.test(p.message));
    assert.equal(read.length, 1, JSON.stringify(problems));
    assert.equal(read[0].pack, a.id);
    assert.match(read[0].message, new RegExp(`^"meta/${a.id}" does not hold its own bytes`));
    assert.match(read[0].message, new RegExp(`the bytes of pack "${b.id}"`));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("more than ten index entries a pack does not hold are summed up in one problem naming the segment", async () => {
  const { repo } = await twoBackups();
  try {
    const real = [...repo.index.packs()].find((p) => !p.metadata)!;
    const frame = repo.index.copies([...repo.index.blobs()].find((b) => b.pack === real.id)!.id)
      .find((c) => c.pack === real.id)!;
    const fakes = Array.from({ length: 14 }, (_, i) => ({
      ...frame,
      id: sha256Hex(new TextEncoder().encode(`fake ${i}`)),
    }));
    const forged = encodeIndexSegment(repo.keys.indexKey, [
      { pack: real.id, metadata: false, length: real.length, blobs: fakes },
    ], { level: repo.config.compression.level });
    const segment = sha256Hex(forged);
    await repo.storage.create(layout.index(segment), forged);
    await repo.loadIndex();

    const { problems } = await check(repo, { readPacks: [real.id] });
    assert.equal(problems.length, 11, JSON.stringify(problems));
    for (const p of problems.slice(0, 10)) {
      assert.ok(fakes.some((f) => f.id === p.blob));
      assert.match(p.message, /the pack does not hold it \(claimed by "index\/[0-9a-f]{64}"\)/);
      assert.ok(p.message.includes(segment));
    }
    assert.match(problems[10].message, /^and 4 more index entries say this pack holds blobs/);
    assert.ok(problems[10].message.includes(`"index/${segment}"`));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("deep checks of a whole repository find nothing wrong in honest packs", async () => {
  const { repo } = await twoBackups();
  try {
    const { problems, readPacks } = await check(repo, { readData: true });
    assert.deepEqual(problems, []);
    assert.equal(
      readPacks,
      repo.index.packCount + [...repo.index.packs()].filter((p) => p.metadata).length,
    );
  } finally {
    await repo.storage.close();
  }
});
