/**
 * Garbage collection and objects it cannot decode: a snapshot manifest or index segment that is
 * damaged, or written by a newer format version, is skipped with a warning by every reader, but
 * gc must not compute the live set without it (what it references would look dead and be
 * deleted). `markRepository` (and so `gc compact`) refuses and names the objects; `check`
 * reports them; a forged supersession and stray names do not block gc.
 *
 * How the damaged objects are made: a snapshot "from a newer version" is a real manifest with
 * its version byte (offset 4, docs/format.md §9.1) set to 2 and stored under its new hash; a
 * "bit-rotted" segment is a real segment with its last byte flipped (its AEAD tag no longer
 * verifies), stored under its old name.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sha256Hex } from "../host/crypto/hash.ts";
import { shippedPriceTable } from "../host/cost/price_table.ts";
import { assertNothingUndecodable, UndecodableObjects } from "../host/ops/admin_gate.ts";
import { backup } from "../host/ops/backup.ts";
import { check } from "../host/ops/check.ts";
import { planCompact } from "../host/ops/gc_compact.ts";
import { markRepository } from "../host/ops/gc_mark.ts";
import { scanMetadata, writeRebuild } from "../host/ops/rebuild.ts";
import { planRebuild } from "../host/ops/rebuild_plan.ts";
import { encodeIndexSegment } from "../host/repository/index_segment.ts";
import { idOf, layout } from "../host/repository/layout.ts";
import type { Repository } from "../host/repository/repository.ts";
import { newRepo, randomBytes, reopen, tempDir } from "./helpers.ts";

/** A repository with two snapshots of a folder; between them one file was replaced. */
async function twoSnapshots(): Promise<{ dir: string; first: string; second: string }> {
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  await Deno.writeFile(`${src}/kept.bin`, randomBytes(600_000, 1));
  await Deno.writeFile(`${src}/changed.bin`, randomBytes(500_000, 2));
  await backup(repo, { paths: [src] });
  await Deno.writeFile(`${src}/changed.bin`, randomBytes(500_000, 3));
  await backup(repo, { paths: [src] });
  const [first, second] = (await repo.snapshots()).map((s) => s.id);
  await repo.storage.close();
  return { dir, first, second };
}

/** Rewrites `name` with `edit` applied to its bytes, under `newName` (default: the same name). */
async function rewrite(
  dir: string,
  name: string,
  edit: (bytes: Uint8Array) => void,
  newName?: (bytes: Uint8Array) => string,
): Promise<string> {
  const repo = await reopen(dir);
  try {
    const bytes = (await repo.storage.read(name)).slice();
    edit(bytes);
    const target = newName?.(bytes) ?? name;
    await repo.storage.delete(name);
    await repo.storage.create(target, bytes);
    return target;
  } finally {
    await repo.storage.close();
  }
}

/** The snapshot `id` as a newer Permafrost would write it: manifest version 2. */
function fromNewerVersion(dir: string, id: string): Promise<string> {
  return rewrite(dir, layout.snapshot(id), (b) => b[4] = 2, (b) => layout.snapshot(sha256Hex(b)));
}

/** Runs `check` on the repository in `dir`, and returns its problems' messages. */
async function checkProblems(dir: string): Promise<string[]> {
  const repo = await reopen(dir);
  try {
    return (await check(repo)).problems.map((p) => p.message);
  } finally {
    await repo.storage.close();
  }
}

Deno.test("markRepository refuses a snapshot manifest of a newer version, naming it, and check reports it", async () => {
  const { dir, first } = await twoSnapshots();
  const name = await fromNewerVersion(dir, first);
  const repo = await reopen(dir);
  try {
    const refused = new RegExp(
      `^gc mark refuses to run: this object cannot be decoded: "${name}"\\. .*permafrost check`,
    );
    await assert.rejects(markRepository(repo), (err: Error) => {
      assert.ok(err instanceof UndecodableObjects, String(err));
      assert.match(err.message, refused);
      assert.match(err.message, /delete any other from the store deliberately/);
      return true;
    });
    assert.deepEqual(repo.undecodable, [name]);
    assert.ok(repo.warnings.some((w) => w.startsWith(`"${name}" cannot be decoded`)));
    // gc compact marks first, so it refuses before it plans anything.
    await assert.rejects(
      planCompact(repo, { table: shippedPriceTable("us-east-1"), to: "internet", all: true }),
      UndecodableObjects,
    );
  } finally {
    await repo.storage.close();
  }
  const problems = await checkProblems(dir);
  assert.ok(problems.some((m) => m.includes(`"${name}"`) && m.includes("version 2")), problems[0]);
});

Deno.test("markRepository refuses a damaged index segment, naming it, and check reports it", async () => {
  const { dir } = await twoSnapshots();
  const segments = await (async () => {
    const repo = await reopen(dir);
    const listed = await repo.storage.list(layout.prefixes.index);
    await repo.storage.close();
    return listed.map((o) => o.name);
  })();
  const name = await rewrite(dir, segments[0], (b) => b[b.length - 1] ^= 0x01);
  const repo = await reopen(dir);
  try {
    await assert.rejects(
      markRepository(repo),
      (err: Error) =>
        err instanceof UndecodableObjects &&
        err.message.startsWith(`gc mark refuses to run: this object cannot be decoded: "${name}".`),
    );
    assert.deepEqual(repo.undecodable, [name]);
  } finally {
    await repo.storage.close();
  }
  const problems = await checkProblems(dir);
  assert.ok(problems.some((m) => m.startsWith(`"${name}" cannot be decoded`)), problems[0]);
});

Deno.test("after the damaged segment is deleted and rebuild writes it again, markRepository runs and nothing is missing", async () => {
  const { dir } = await twoSnapshots();
  const repo0 = await reopen(dir);
  const before = await markRepository(repo0);
  const segment = (await repo0.storage.list(layout.prefixes.index))[0].name;
  await repo0.storage.close();
  await rewrite(dir, segment, (b) => b[b.length - 1] ^= 0x01);

  const repo = await reopen(dir);
  try {
    await repo.storage.delete(segment); // what the message tells the admin to do
    const scan = await scanMetadata(repo, await planRebuild(repo));
    const result = await writeRebuild(repo, scan);
    assert.ok(result.segments > 0, "the deleted segment's packs are indexed again");
  } finally {
    await repo.storage.close();
  }
  const again = await reopen(dir);
  try {
    const after = await markRepository(again);
    assert.equal(after.snapshots, 2);
    assert.equal(after.blobs.missing, 0);
    assert.equal(after.blobs.dead, 0);
    assert.equal(after.blobs.live, before.blobs.live);
  } finally {
    await again.storage.close();
  }
});

Deno.test("every undecodable object is named, and only objects of the layout count", async () => {
  const { dir, first, second } = await twoSnapshots();
  const a = await fromNewerVersion(dir, first);
  const b = await fromNewerVersion(dir, second);
  const admin = await reopen(dir);
  // Stray names under index/ and snapshots/ are not repository objects: warnings only.
  await admin.storage.create("index/.DS_Store", new TextEncoder().encode("x"));
  await admin.storage.create("snapshots/notes.txt", new TextEncoder().encode("x"));
  await admin.storage.close();
  const repo = await reopen(dir);
  try {
    await assert.rejects(markRepository(repo), (err: Error) => {
      assert.ok(err instanceof UndecodableObjects);
      assert.match(err.message, /^gc mark refuses to run: 2 objects cannot be decoded: /);
      for (const name of [a, b]) assert.ok(err.message.includes(`"${name}"`), name);
      assert.ok(!err.message.includes(".DS_Store") && !err.message.includes("notes.txt"));
      return true;
    });
    assert.deepEqual([...repo.undecodable].sort(), [a, b].sort());
  } finally {
    await repo.storage.close();
  }
});

Deno.test("a forged superseding segment and stray names do not block markRepository", async () => {
  const { dir } = await twoSnapshots();
  const admin = await reopen(dir);
  const victim = idOf((await admin.storage.list(layout.prefixes.index))[0].name);
  // Forged as an ingest client could: the index key as the tag key (test/index_supersession_test.ts).
  const forged = encodeIndexSegment(admin.keys.indexKey, [], {
    level: admin.config.compression.level,
    supersession: { supersedes: [victim], adminTagKey: admin.keys.indexKey },
  });
  await admin.storage.create(layout.index(sha256Hex(forged)), forged);
  await admin.storage.create("index/.DS_Store", new TextEncoder().encode("x"));
  await admin.storage.create("snapshots/notes.txt", new TextEncoder().encode("x"));
  await admin.storage.close();

  const repo = await reopen(dir);
  try {
    const report = await markRepository(repo);
    assert.equal(report.snapshots, 2);
    assert.equal(report.blobs.missing, 0);
    assert.equal(report.blobs.dead, 0, "the forged supersession hides nothing");
    assert.deepEqual(repo.undecodable, []);
    assert.ok(repo.warnings.some((w) => w.includes("without a valid admin tag")));
    assert.ok(repo.warnings.some((w) => w.includes("index/.DS_Store")));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("assertNothingUndecodable lists twenty names, then how many more", () => {
  const names = Array.from(
    { length: 23 },
    (_, i) => layout.snapshot(i.toString(16).padStart(64, "0")),
  );
  const repo = { undecodable: names } as unknown as Repository;
  assert.throws(
    () => assertNothingUndecodable(repo, "gc purge"),
    (err: Error) => {
      assert.match(err.message, /^gc purge refuses to run: 23 objects cannot be decoded: /);
      assert.ok(err.message.includes(`"${names[19]}"`));
      assert.ok(!err.message.includes(`"${names[20]}"`));
      assert.match(err.message, / and 3 more\. /);
      return true;
    },
  );
  assertNothingUndecodable({ undecodable: [] } as unknown as Repository, "gc purge");
});
