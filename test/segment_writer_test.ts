/**
 * The one writer of index segments (`Repository.writeSegment`, docs/format.md §3.5, §7, §7.1):
 * every operation that writes a segment stores it at the config's zstd level, and the index in
 * memory after a write is the index a fresh `loadIndex` gives.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { shippedPriceTable } from "../host/cost/price_table.ts";
import { aeadOpen } from "../host/crypto/aead.ts";
import { utf8 } from "../host/crypto/bytes.ts";
import { compress, decompress } from "../host/crypto/zstd.ts";
import { backup } from "../host/ops/backup.ts";
import { compactWork, planCompact } from "../host/ops/gc_compact.ts";
import { executeCompact } from "../host/ops/gc_compact_execute.ts";
import { consolidateIndex } from "../host/ops/index_consolidate.ts";
import { planRebuild } from "../host/ops/rebuild_plan.ts";
import { scanMetadata, writeRebuild } from "../host/ops/rebuild.ts";
import { openIndexSegment } from "../host/repository/index_segment.ts";
import { idOf, layout } from "../host/repository/layout.ts";
import { Repository } from "../host/repository/repository.ts";
import { openStorage } from "../host/storage/open.ts";
import { forgetOne, PASSWORD, randomBytes, reopen, tempDir, TEST_KDF } from "./helpers.ts";

const table = shippedPriceTable("us-east-1");
/** Not the encoder's default (3), so a writer that ignores the config is seen. */
const LEVEL = 19;

/** A repository whose config asks for `LEVEL`, with small packs. */
async function repoAtLevel(): Promise<{ dir: string; repo: Repository }> {
  const dir = await tempDir("pf-repo-");
  const storage = await openStorage(dir, "admin", { create: true });
  const repo = await Repository.init(storage, PASSWORD, {
    kdf: TEST_KDF,
    config: {
      compression: { algorithm: "zstd", level: LEVEL },
      chunker: { algorithm: "fastcdc-2020", min: 16 << 10, avg: 64 << 10, max: 256 << 10 },
      pack: { dataSize: 1 << 20, metaSize: 256 << 10, frameSize: 64 << 10 },
    },
  });
  return { dir, repo };
}

/**
 * The zstd frame each segment named in `names` stores. zstd output is a function of the input
 * and the level, so a frame equals `compress(body, LEVEL)` exactly when written at that level.
 */
async function assertAtLevel(repo: Repository, names: Iterable<string>, writer: string) {
  let checked = 0;
  let differs = false;
  for (const name of names) {
    const bytes = await repo.storage.read(name);
    const frame = aeadOpen(repo.keys.indexKey, bytes.subarray(5), utf8("PFIX"));
    const body = decompress(frame);
    assert.deepEqual(frame, compress(body, LEVEL), `${writer}: "${name}" is at level ${LEVEL}`);
    differs ||= compress(body, 3).length !== frame.length ||
      !compress(body, 3).every((b, i) => b === frame[i]);
    checked++;
  }
  assert.ok(checked > 0, `${writer} wrote a segment`);
  assert.ok(differs, `${writer}: level ${LEVEL} and level 3 give other bytes (the test tells)`);
}

/** Index objects now in the store that `before` did not list. */
async function newSegments(repo: Repository, before: Set<string>): Promise<string[]> {
  return (await repo.storage.list(layout.prefixes.index)).map((o) => o.name)
    .filter((n) => !before.has(n));
}

async function segmentNames(repo: Repository): Promise<Set<string>> {
  return new Set((await repo.storage.list(layout.prefixes.index)).map((o) => o.name));
}

/** What a reader's index says: packs, every copy of every blob, segments and supersession. */
function indexState(repo: Repository) {
  const blobs = new Map<string, string[]>();
  for (const b of repo.index.locations()) blobs.set(b.id, [...blobs.get(b.id) ?? [], b.pack]);
  for (const packs of blobs.values()) packs.sort();
  return {
    packs: [...repo.index.packs()].sort((a, b) => a.id < b.id ? -1 : 1),
    blobCount: repo.index.blobCount,
    blobs: [...blobs].sort(([a], [b]) => a < b ? -1 : 1),
    segments: repo.segments().map(({ modified: _, ...s }) => s).sort((a, b) =>
      a.id < b.id ? -1 : 1
    ),
    superseded: [...repo.supersededSegments()].sort(),
    attested: [...repo.attestedPacks()].sort(),
  };
}

Deno.test("every writer of index segments stores them at the config's compression level", async () => {
  const { dir, repo } = await repoAtLevel();
  const src = await tempDir();
  fs.mkdirSync(join(src, "keep"));
  fs.mkdirSync(join(src, "gone"));
  fs.writeFileSync(join(src, "keep/a.bin"), randomBytes(900_000, 21));
  fs.writeFileSync(join(src, "gone/b.bin"), randomBytes(1_800_000, 22));
  try {
    // The backup's pack uploader.
    let before = await segmentNames(repo);
    await backup(repo, { paths: [src] });
    fs.rmSync(join(src, "gone"), { recursive: true });
    await backup(repo, { paths: [src] });
    await assertAtLevel(repo, await newSegments(repo, before), "backup");

    // Index consolidation (version 2).
    before = await segmentNames(repo);
    assert.ok((await consolidateIndex(repo)).segment);
    await assertAtLevel(repo, await newSegments(repo, before), "gc index");

    // Compaction: the new packs' segments and the superseding one.
    await forgetOne(repo, (await repo.snapshots())[0]);
    before = await segmentNames(repo);
    const compacted = await executeCompact(
      repo,
      compactWork(await planCompact(repo, { table, to: "internet", all: true })),
    );
    assert.ok(compacted.retired >= 1);
    await assertAtLevel(repo, await newSegments(repo, before), "gc compact");

    // Rebuild, from the packs alone.
    for (const name of await segmentNames(repo)) await repo.storage.delete(name);
    const fresh = await reopen(dir);
    try {
      await fresh.loadIndex();
      const scan = await scanMetadata(fresh, await planRebuild(fresh));
      assert.ok((await writeRebuild(fresh, scan)).segments > 0);
      await assertAtLevel(fresh, await segmentNames(fresh), "rebuild");
    } finally {
      await fresh.storage.close();
    }
  } finally {
    await repo.storage.close();
  }
  // gc purge's rescue and the backup guard's rescue write through `writeSegment` too (no module
  // but the repository encodes a segment: the next test); test/backup_gc_race_test.ts and
  // test/gc_lifecycle_test.ts drive them.
});

Deno.test("no module but the repository encodes or names an index segment to write it", () => {
  const root = new URL("../host/", import.meta.url).pathname;
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        const text = fs.readFileSync(path, "utf8");
        const rel = path.slice(root.length);
        // spec_examples.ts encodes the spec's worked example with a fixed nonce; it writes none.
        const allowed = ["repository/repository.ts", "repository/index_segment.ts"];
        if (rel === "repository/spec_examples.ts" || allowed.includes(rel)) continue;
        if (/encodeIndexSegment\(|create\(\s*layout\.index\(/.test(text)) offenders.push(rel);
      }
    }
  };
  walk(root);
  assert.deepEqual(offenders, [], "segments are written by Repository.writeSegment only");
});

Deno.test("after writeSegment the index in memory is what a fresh loadIndex gives", async () => {
  const { dir, repo } = await repoAtLevel();
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(1_500_000, 31));
  fs.writeFileSync(join(src, "b.bin"), randomBytes(900_000, 32));
  try {
    await backup(repo, { paths: [src] });
    await repo.loadIndex();
    const ids = [...await segmentNames(repo)].map(idOf).sort();
    assert.ok(ids.length >= 2);
    const records = async (id: string) =>
      openIndexSegment(repo.keys.indexKey, await repo.storage.read(layout.index(id))).packs;

    const compare = async (what: string) => {
      const again = await reopen(dir);
      try {
        await again.loadIndex();
        assert.deepEqual(indexState(repo), indexState(again), what);
      } finally {
        await again.storage.close();
      }
    };
    await compare("after the backup's own segments");

    // Version 1, naming again packs another segment names (what a rescue does).
    await repo.writeSegment(await records(ids[0]));
    await compare("after a version-1 segment");

    // Version 2: supersedes one segment, keeps its first pack (attested), drops the others.
    const [first, ...dropped] = await records(ids[1]);
    const v2 = await repo.writeSegment([{ ...first, attested: true }], { supersedes: [ids[1]] });
    assert.ok(repo.supersededSegments().has(ids[1]));
    for (const p of dropped) assert.equal(repo.index.pack(p.pack), undefined, "retired");
    assert.ok(repo.attestedPacks().has(first.pack));
    await compare("after a superseding segment");

    // The list is closed (§7.1): a later superseding segment names the earlier's too.
    const later = await repo.writeSegment([], { supersedes: [v2] });
    const written = openIndexSegment(
      repo.keys.indexKey,
      await repo.storage.read(layout.index(later)),
    );
    assert.deepEqual(written.supersedes, [ids[1], v2].sort());
    await compare("after a second superseding segment");

    // A dry run writes nothing and changes nothing.
    const count = (await segmentNames(repo)).size;
    const state = indexState(repo);
    const dry = await repo.writeSegment(await records(ids[0]), { dryRun: true });
    assert.equal((await segmentNames(repo)).size, count);
    assert.ok(!(await segmentNames(repo)).has(layout.index(dry)));
    assert.deepEqual(indexState(repo), state);
  } finally {
    await repo.storage.close();
  }
});
