import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { newRepo, reopen, tempDir, writeSampleTree } from "../../test/helpers.ts";
import { backup } from "../ops/backup.ts";
import { consolidateIndex } from "../ops/index_consolidate.ts";
import { layout } from "./layout.ts";
import { DiskIndex } from "./disk_index.ts";
import type { RepoIndex } from "./repo_index.ts";
import type { Repository } from "./repository.ts";

let fixture: Promise<string> | undefined;

/** A repository with three backups (three runs: several segments). */
async function makeFixture(): Promise<string> {
  const { dir, repo } = await newRepo({ dataSize: 64 << 10, metaSize: 16 << 10 });
  const src = await tempDir();
  writeSampleTree(src);
  await backup(repo, { paths: [src] });
  Deno.writeTextFileSync(join(src, "new.txt"), "a file added between backups\n".repeat(500));
  await backup(repo, { paths: [src] });
  Deno.writeTextFileSync(join(src, "other.txt"), "another one\n".repeat(3000));
  await backup(repo, { paths: [src] });
  await repo.storage.close();
  return dir;
}

/** A copy of the three-backup repository of its own, and an empty cache folder. */
async function threeBackups(): Promise<{ dir: string; cacheDir: string }> {
  const dir = join(await tempDir(), "repo");
  cpSync(await (fixture ??= makeFixture()), dir, { recursive: true });
  return { dir, cacheDir: await tempDir() };
}

/** Opens the repository in `dir` with its index in the cache file `file`, loaded. */
async function openCached(dir: string, file: string): Promise<Repository> {
  const repo = await reopen(dir);
  repo.useIndexCache(file);
  await repo.loadIndex();
  return repo;
}

/** Opens the repository in `dir` with its index in memory, loaded. */
async function openInMemory(dir: string): Promise<Repository> {
  const repo = await reopen(dir);
  await repo.loadIndex();
  return repo;
}

/** Index segments the repository read from its store while `fn` ran. */
async function segmentReads(repo: Repository, fn: () => Promise<void>): Promise<number> {
  const read = repo.storage.read.bind(repo.storage);
  let n = 0;
  repo.storage.read = (name, range) => {
    if (name.startsWith(layout.prefixes.index)) n++;
    return read(name, range);
  };
  try {
    await fn();
  } finally {
    repo.storage.read = read;
  }
  return n;
}

/** Every answer of `a` equals `b`'s: lookups of every blob and pack, iterations, counts. */
function assertSameIndex(a: RepoIndex, b: RepoIndex): void {
  const byId = <T extends { id: string }>(xs: Iterable<T>) =>
    [...xs].sort((x, y) => x.id < y.id ? -1 : 1);
  const byLocation = <T extends { id: string; pack: string }>(xs: Iterable<T>) =>
    [...xs].map((x) => JSON.stringify(x)).sort();
  assert.deepStrictEqual(byId(a.packs()), byId(b.packs()));
  assert.deepStrictEqual(byLocation(a.locations()), byLocation(b.locations()));
  assert.deepStrictEqual(a.blobCount, b.blobCount);
  assert.deepStrictEqual(a.packCount, b.packCount);
  for (const blob of b.blobs()) {
    assert.ok(a.has(blob.id));
    assert.deepStrictEqual(a.get(blob.id), b.get(blob.id));
    assert.deepStrictEqual(
      a.copies(blob.id).map((c) => c.pack).sort(),
      b.copies(blob.id).map((c) => c.pack).sort(),
    );
  }
  for (const p of b.packs()) assert.deepStrictEqual(a.pack(p.id), p);
  const absent = "0".repeat(64);
  assert.deepStrictEqual([a.has(absent), a.get(absent), a.copies(absent)], [false, undefined, []]);
  // Many lookups at once answer as one by one, in order, absent ids and all, across chunks.
  const ids = [absent, ...[...b.blobs()].map((x) => x.id), absent];
  assert.deepStrictEqual(a.copiesMany(ids), ids.map((id) => a.copies(id)));
  assert.deepStrictEqual(b.copiesMany(ids), ids.map((id) => b.copies(id)));
}

Deno.test("the index cache answers every lookup as the index in memory does", async () => {
  const { dir, cacheDir } = await threeBackups();
  const cached = await openCached(dir, join(cacheDir, "index.sqlite"));
  const memory = await openInMemory(dir);
  assert.ok(memory.index.blobCount > 0);
  assertSameIndex(cached.index, memory.index);
  assert.deepStrictEqual(cached.segments().length, memory.segments().length);
  // An id that is not 64 lowercase hex digits (an engine's mistake) is not indexed in either:
  // never a SyntaxError, nor a stored blob found by its uppercase spelling.
  const stored = memory.index.blobs().next().value!.id;
  for (const odd of [stored.toUpperCase(), "xyz", stored.slice(1), ""]) {
    for (const index of [cached.index, memory.index]) {
      assert.equal(index.has(odd), false, odd);
      assert.equal(index.get(odd), undefined, odd);
      assert.deepEqual(index.copies(odd), [], odd);
      assert.deepEqual(index.copiesMany([odd]), [[]], odd);
    }
  }
  cached.closeIndexCache();
});

Deno.test("the index cache survives a restart and then reads only segments it has not seen", async () => {
  const { dir, cacheDir } = await threeBackups();
  const file = join(cacheDir, "index.sqlite");
  const first = await reopen(dir);
  first.useIndexCache(file);
  assert.deepStrictEqual(
    await segmentReads(first, () => first.loadIndex()),
    first.segments().length,
  );
  first.closeIndexCache();

  const second = await reopen(dir);
  second.useIndexCache(file);
  assert.deepStrictEqual(await segmentReads(second, () => second.loadIndex()), 0);
  assert.deepStrictEqual(second.warnings, []);
  const src = await tempDir();
  Deno.writeTextFileSync(join(src, "late.txt"), "written after the cache was built\n");
  await backup(second, { paths: [src] }); // writes its segment through the cache
  second.closeIndexCache();

  const third = await reopen(dir);
  third.useIndexCache(file);
  assert.deepStrictEqual(await segmentReads(third, () => third.loadIndex()), 0);
  assertSameIndex(third.index, (await openInMemory(dir)).index);
  third.closeIndexCache();
});

Deno.test("a damaged index cache file is discarded and built again, with a warning", async () => {
  const { dir, cacheDir } = await threeBackups();
  const file = join(cacheDir, "index.sqlite");
  (await openCached(dir, file)).closeIndexCache();
  const bytes = Deno.readFileSync(file);
  bytes.fill(0x5a, 0, 4096); // the header page: SQLite no longer recognises it
  Deno.writeFileSync(file, bytes);

  const repo = await openCached(dir, file);
  assert.deepStrictEqual(repo.warnings.length, 1);
  assert.ok(repo.warnings[0].startsWith(`"${file}" cannot be read`), repo.warnings[0]);
  assertSameIndex(repo.index, (await openInMemory(dir)).index);
  repo.closeIndexCache();
});

Deno.test("another repository's index cache file is discarded, never read", async () => {
  const { dir, cacheDir } = await threeBackups();
  const other = await newRepo();
  await other.repo.storage.close();
  const file = join(cacheDir, "index.sqlite");
  (await openCached(other.dir, file)).closeIndexCache();

  const repo = await openCached(dir, file);
  assert.deepStrictEqual(repo.warnings.length, 1);
  assert.ok(repo.warnings[0].includes("belongs to another repository"), repo.warnings[0]);
  assertSameIndex(repo.index, (await openInMemory(dir)).index);
  repo.closeIndexCache();
});

Deno.test("the index cache follows an index consolidation and the deletion of what it superseded", async () => {
  const { dir, cacheDir } = await threeBackups();
  const file = join(cacheDir, "index.sqlite");
  (await openCached(dir, file)).closeIndexCache();

  // Another process (its index in memory) consolidates the index.
  const admin = await openInMemory(dir);
  const before = admin.segments().map((s) => s.id);
  await consolidateIndex(admin);
  const cached = await openCached(dir, file);
  assert.deepStrictEqual(await segmentReads(cached, () => cached.loadIndex()), 0);
  assertSameIndex(cached.index, (await openInMemory(dir)).index);

  // Then the superseded segments are deleted (as `gc purge` does): the cache forgets them.
  for (const id of before) await admin.storage.delete(layout.index(id));
  await cached.loadIndex();
  assert.deepStrictEqual(cached.segments().length, 1);
  assertSameIndex(cached.index, (await openInMemory(dir)).index);
  cached.closeIndexCache();
  const again = await openCached(dir, file);
  assert.deepStrictEqual(again.segments().length, 1);
  again.closeIndexCache();
});

Deno.test("a consolidation written through the index cache drops the superseded rows at once", async () => {
  const { dir, cacheDir } = await threeBackups();
  const repo = await openCached(dir, join(cacheDir, "index.sqlite"));
  await consolidateIndex(repo);
  assertSameIndex(repo.index, (await openInMemory(dir)).index);
  repo.closeIndexCache();
});

Deno.test("a sync killed while it commits leaves the index cache as it was, or as after it", async () => {
  const file = join(await tempDir(), "index.sqlite");
  const owner = { repository: "a".repeat(64), fingerprint: "f".repeat(64) };
  // A child process stages one segment of 200,000 entries and is killed once it says it is
  // committing: the kill lands before, during or after the transaction.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `
      import { DiskIndex } from "${new URL("./disk_index.ts", import.meta.url).href}";
      const disk = DiskIndex.open(${JSON.stringify(file)}, ${JSON.stringify(owner)}, () => {});
      const blobs = Array.from({ length: 200000 }, (_, i) => ({
        id: i.toString(16).padStart(64, "0"), type: "data", frameOffset: i, frameLength: 1,
        offsetInFrame: 0, length: 1,
      }));
      const info = { id: "e".repeat(64), packs: ["d".repeat(64)], supersedes: [], attested: [] };
      disk.stage(info, [{ pack: "d".repeat(64), metadata: false, length: 1, blobs }]);
      await Deno.stdout.write(new TextEncoder().encode("committing\\n"));
      disk.commit();
      await new Promise(() => {}); // killed here at the latest
    `,
    ],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assert.ok(new TextDecoder().decode(value).startsWith("committing"));
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();

  const disk = DiskIndex.open(file, owner, (w) => assert.fail(w));
  const segments = disk.segments().length;
  assert.ok(segments === 0 || segments === 1);
  assert.strictEqual(disk.blobCount, segments === 0 ? 0 : 200000);
  assert.strictEqual(disk.has((199999).toString(16).padStart(64, "0")), segments === 1);
  disk.close();
});

/** A segment `c` (one hex digit) naming one pack `p` that holds blobs numbered `blobs`. */
function segmentOf(c: string, p: string, blobs: number[]) {
  const pack = p.repeat(64);
  return {
    info: { id: c.repeat(64), packs: [pack], supersedes: [], attested: [] },
    packs: [{
      pack,
      metadata: false,
      length: 10_000,
      blobs: blobs.map((i) => ({
        id: blobId(i),
        type: "data" as const,
        frameOffset: 100 * i,
        frameLength: 50,
        offsetInFrame: 0,
        length: 1,
      })),
    }],
  };
}

function blobId(i: number): string {
  return i.toString(16).padStart(64, "0");
}

Deno.test("lookups answer from the segments this process synced, never from one another process recorded meanwhile", async () => {
  const file = join(await tempDir(), "index.sqlite");
  const owner = { repository: "a".repeat(64), fingerprint: "f".repeat(64) };
  const [a, b] = ["a".repeat(64), "b".repeat(64)];
  const run = DiskIndex.open(file, owner, (w) => assert.fail(w));
  const first = segmentOf("1", "a", [1]);
  run.stage(first.info, first.packs);
  run.commit();
  // Another process (a second connection to the same file) records blob 1 again, and blob 2,
  // in pack b: a segment this run did not list, so its trust checks never saw it.
  const other = DiskIndex.open(file, owner, (w) => assert.fail(w));
  const second = segmentOf("2", "b", [1, 2]);
  other.stage(second.info, second.packs);
  other.commit();
  other.close();

  assert.deepStrictEqual(run.copies(blobId(1)).map((c) => c.pack), [a]);
  assert.deepStrictEqual(
    run.copiesMany([blobId(1), blobId(2)]).map((cs) => cs.map((c) => c.pack)),
    [
      [a],
      [],
    ],
  );
  assert.deepStrictEqual([run.has(blobId(2)), run.get(blobId(2)), run.pack(b)], [
    false,
    undefined,
    undefined,
  ]);
  assert.deepStrictEqual(run.blobCount, 1);

  // Its next sync lists and checks that segment (recorded already: only the view grows).
  run.stage(second.info, second.packs);
  run.commit();
  assert.deepStrictEqual(run.copies(blobId(1)).map((c) => c.pack), [b, a]);
  assert.deepStrictEqual(run.copiesMany([blobId(1)])[0].map((c) => c.pack), [b, a]);
  assert.deepStrictEqual(run.get(blobId(2))?.pack, b);
  assert.deepStrictEqual(run.pack(b)?.length, 10_000);
  assert.deepStrictEqual([...run.blobs()].map((x) => x.pack), [b, b]);
  assert.deepStrictEqual(run.blobCount, 2);
  run.close();
});

Deno.test("a sync that starts over (a superseding segment gone) never shows other processes an empty index", async () => {
  const { dir, cacheDir } = await threeBackups();
  const file = join(cacheDir, "index.sqlite");
  await consolidateIndex(await openInMemory(dir));
  const cached = await openCached(dir, file);
  const [consolidation] = cached.segments().filter((s) => s.supersedes.length > 0);
  await cached.storage.delete(layout.index(consolidation.id)); // what it superseded counts again

  // Another process looks at the file each time the sync reads a segment.
  const other = new DatabaseSync(file, { readOnly: true });
  const seen: number[] = [];
  const read = cached.storage.read.bind(cached.storage);
  cached.storage.read = (name, range) => {
    seen.push((other.prepare("SELECT COUNT(*) AS n FROM blobs").get() as { n: number }).n);
    return read(name, range);
  };
  await cached.loadIndex();
  other.close();
  assert.ok(seen.length > 0);
  assert.ok(seen.every((n) => n > 0), `the other process saw ${seen.join(", ")} blob rows`);
  assertSameIndex(cached.index, (await openInMemory(dir)).index);
  cached.closeIndexCache();
});

Deno.test("a process that still holds a superseding segment another process saw go retires nothing with it", async () => {
  const { dir, cacheDir } = await threeBackups();
  const file = join(cacheDir, "index.sqlite");
  await consolidateIndex(await openInMemory(dir));
  const longLived = await openCached(dir, file); // a mount, say: it holds the consolidation
  const [consolidation] = longLived.segments().filter((s) => s.supersedes.length > 0);
  await longLived.storage.delete(layout.index(consolidation.id));
  (await openCached(dir, file)).closeIndexCache(); // another command starts the file over

  // The long-lived process then records a segment of its own.
  const { packs } = segmentOf("0", "c", [1]);
  await longLived.writeSegment(packs);
  longLived.closeIndexCache();

  const next = await openCached(dir, file);
  assertSameIndex(next.index, (await openInMemory(dir)).index);
  next.closeIndexCache();
});
