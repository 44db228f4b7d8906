/**
 * What `check` and `restore` trust (issue 12, cases 3, 4, 5 and 10), through the real CLI: an
 * index entry that a pack does not hold, packs or manifests stored under each other's names, a
 * copy planted under another snapshot's prefix, a missing pack, and damaged pack headers. Each
 * is made the way an ingest client (which may write index segments and snapshots) or a careless
 * admin moving files would make it.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../host/crypto/hash.ts";
import { blobId } from "../host/crypto/mac.ts";
import { check } from "../host/ops/check.ts";
import { markRepository } from "../host/ops/gc_mark.ts";
import {
  encodeIndexSegment,
  type IndexedPack,
  openIndexSegment,
} from "../host/repository/index_segment.ts";
import { encodeKeyExport } from "../host/repository/keyfile.ts";
import { toIngestKeys } from "../host/repository/keys.ts";
import { layout } from "../host/repository/layout.ts";
import type { Repository } from "../host/repository/repository.ts";
import { objectPath } from "../plugins/storage/local/object_path.ts";
import { cli, describeTree, randomBytes, reopen, tempDir } from "./helpers.ts";

interface Problem {
  pack?: string;
  blob?: string;
  snapshot?: string;
  message: string;
}

/** A repository made by the CLI (1 MiB packs), and a `cli` bound to it. */
async function cliRepo() {
  const dir = join(await tempDir(), "repo");
  const env = { PERMAFROST_REPO: dir, PERMAFROST_CACHE_DIR: await tempDir() };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const run = (...args: string[]) => cli(args, env);
  /** Backs up a fresh folder holding `files` (name -> bytes); its id and folder. */
  const backupOf = async (files: Record<string, Uint8Array>) => {
    const src = await tempDir();
    for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(join(src, name), bytes);
    const b = await run("backup", src, "--json");
    assert.equal(b.code, 0, b.stderr);
    return { id: JSON.parse(b.stdout).snapshot as string, src };
  };
  return { dir, run, backupOf };
}

/** `check [args] --json`: its exit status and problems. */
async function checkJson(run: (...a: string[]) => ReturnType<typeof cli>, ...args: string[]) {
  const r = await run("check", ...args, "--json");
  assert.ok(r.code === 0 || r.code === 3, `check exited ${r.code}: ${r.stderr}`);
  return { code: r.code, problems: JSON.parse(r.stdout).problems as Problem[] };
}

/** Runs `fn` on the repository in `dir` (admin, or `ingest` with its put-only key). */
async function withRepo<T>(
  dir: string,
  fn: (repo: Repository) => Promise<T>,
  role: "admin" | "ingest" = "admin",
): Promise<T> {
  let repo = await reopen(dir);
  if (role === "ingest") {
    const keyFile = encodeKeyExport(toIngestKeys(repo.keys), repo.config.id);
    await repo.storage.close();
    repo = await reopen(dir, { keyFile }, "ingest");
  }
  try {
    return await fn(repo);
  } finally {
    await repo.storage.close();
  }
}

/** Every pack record of every segment, read the way an ingest client can. */
async function packRecords(repo: Repository): Promise<IndexedPack[]> {
  const out: IndexedPack[] = [];
  for (const o of await repo.storage.list(layout.prefixes.index)) {
    out.push(...openIndexSegment(repo.keys.indexKey, await repo.storage.read(o.name)).packs);
  }
  return out;
}

/** Writes a segment of `packs` as an ingest client, dated after every other; its id. */
async function forgeSegment(dir: string, packs: IndexedPack[]): Promise<string> {
  return await withRepo(dir, async (ingest) => {
    const forged = encodeIndexSegment(ingest.keys.indexKey, packs, {
      level: ingest.config.compression.level,
    });
    const id = sha256Hex(forged);
    await ingest.storage.create(layout.index(id), forged);
    // Newer than the real segments, so the index prefers its locations (loaded first).
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(join(dir, objectPath(layout.index(id))), later, later);
    return id;
  }, "ingest");
}

/** Swaps the stored bytes of two objects of the local store. */
function swapObjects(dir: string, a: string, b: string): void {
  const [pa, pb] = [join(dir, objectPath(a)), join(dir, objectPath(b))];
  const [ba, bb] = [fs.readFileSync(pa), fs.readFileSync(pb)];
  for (const [path, bytes] of [[pa, bb], [pb, ba]] as const) {
    fs.chmodSync(path, 0o644);
    fs.writeFileSync(path, bytes);
  }
}

const dataPacks = (repo: Repository) => [...repo.index.packs()].filter((p) => !p.metadata);

Deno.test("check --read-data finds an ingest client's claim that a real pack holds a blob it does not", async () => {
  const { dir, run, backupOf } = await cliRepo();
  await backupOf({ "a.bin": randomBytes(300_000, 1) });
  // Content the attacker expects someone to back up later (one chunk: under the chunker's min).
  const victim = randomBytes(40_000, 2);
  const { real, claimed } = await withRepo(dir, async (ingest) => ({
    real: (await packRecords(ingest)).find((p) => !p.metadata)!,
    claimed: blobId(ingest.keys.macKey, victim),
  }), "ingest");
  const forged = await forgeSegment(dir, [{
    ...real,
    blobs: [{ ...real.blobs[0], id: claimed, offsetInFrame: 0, length: victim.length }],
  }]);
  // A later backup may deduplicate against the claim (the defence against that is not check's).
  await backupOf({ "victim.bin": victim });

  assert.equal((await checkJson(run)).code, 0, "the hot check reads no pack: it cannot tell");
  const { code, problems } = await checkJson(run, "--read-data");
  assert.equal(code, 3, JSON.stringify(problems));
  const found = problems.find((p) => p.pack === real.pack && p.blob === claimed);
  assert.ok(found, JSON.stringify(problems));
  assert.match(found.message, new RegExp(`"index/${forged}"`), "names the segment that claims it");
  const text = await run("check", "--read-data");
  assert.equal(text.code, 3);
  assert.doesNotMatch(text.stdout, /no problems found/);
});

Deno.test("a blob whose only index entry points at other bytes stops restore with the check that finds it", async () => {
  const { dir, run, backupOf } = await cliRepo();
  const { src } = await backupOf({ "a.bin": randomBytes(100_000, 3) });
  // The ingest client names a real pack again, one of its blobs one byte off: the only entry
  // reads use for it, since the newer record of a pack is the one loaded.
  const real = (await withRepo(dir, packRecords, "ingest")).find((p) => !p.metadata)!;
  const moved = real.blobs[0];
  const forged = await forgeSegment(dir, [{
    ...real,
    blobs: [{ ...moved, offsetInFrame: moved.offsetInFrame + 1 }, ...real.blobs.slice(1)],
  }]);

  const target = await tempDir();
  const r = await run("restore", "latest", "--target", target);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, new RegExp(`pack "${real.pack}"`));
  assert.match(r.stderr, new RegExp(`"/${src.split("/").pop()}/a.bin"`), "names the file");
  const command = /`(permafrost check --read-data-subset [^`]+)`/.exec(r.stderr);
  assert.ok(command, r.stderr);
  const left = fs.readdirSync(target, { recursive: true, withFileTypes: true });
  assert.deepEqual(left.filter((e) => !e.isDirectory()), [], "nothing half-written is left");

  // The command restore gave reads that pack, and finds the entry and the segment.
  const args = command[1].split(" ").slice(2); // after "permafrost check"
  const { code, problems } = await checkJson(run, ...args);
  assert.equal(code, 3);
  const found = problems.find((p) => p.pack === real.pack && p.blob === moved.id);
  assert.ok(found, JSON.stringify(problems));
  assert.match(found.message, new RegExp(`"index/${forged}"`));
  const sampled = JSON.parse((await run("check", ...args, "--json")).stdout).sample;
  assert.deepEqual(sampled.packs, [real.pack], "reads just that pack");
});

Deno.test("check --read-data finds two same-size data packs stored under each other's names", async () => {
  const { dir, run, backupOf } = await cliRepo();
  await backupOf({ "a.bin": randomBytes(50_000, 4) });
  await backupOf({ "b.bin": randomBytes(50_000, 5) });
  const [a, b] = await withRepo(dir, async (repo) => {
    await repo.loadIndex();
    return dataPacks(repo);
  });
  assert.equal(a.length, b.length, "the test needs two packs of one size");
  swapObjects(dir, layout.pack(a.id), layout.pack(b.id));

  const { code, problems } = await checkJson(run, "--read-data");
  assert.equal(code, 3, JSON.stringify(problems));
  for (const [named, holds] of [[a, b], [b, a]]) {
    assert.ok(
      problems.some((p) =>
        p.pack === named.id && p.message.includes(`"packs/${named.id}"`) &&
        p.message.includes(`pack "${holds.id}"`)
      ),
      `packs/${named.id} holds the bytes of ${holds.id}: ${JSON.stringify(problems)}`,
    );
  }
});

Deno.test("swapped snapshot manifests: restore by full id refuses, and check reports both", async () => {
  const { dir, run, backupOf } = await cliRepo();
  const a = await backupOf({ "a.txt": new TextEncoder().encode("snapshot a\n") });
  const b = await backupOf({ "b.txt": new TextEncoder().encode("snapshot b\n") });
  swapObjects(dir, layout.snapshot(a.id), layout.snapshot(b.id));

  const target = await tempDir();
  const r = await run("restore", a.id, "--target", target);
  assert.equal(r.code, 1, `restored with exit 0: ${r.stdout}`);
  assert.match(r.stderr, new RegExp(`"snapshots/${a.id}"`));
  assert.match(r.stderr, /permafrost check/);
  assert.deepEqual(fs.readdirSync(target), [], "nothing restored");

  const { code, problems } = await checkJson(run);
  assert.equal(code, 3);
  for (const s of [a, b]) {
    assert.ok(
      problems.some((p) => p.message.includes(`"snapshots/${s.id}"`)),
      `${s.id}: ${JSON.stringify(problems)}`,
    );
  }
  // gc refuses while they are skipped: what they reference would look dead.
  await withRepo(dir, async (repo) => {
    await assert.rejects(markRepository(repo), /snapshots\//);
  });
});

Deno.test("restore latest refuses when the newest manifests are swapped, naming the newest usable snapshot, instead of restoring an older one", async () => {
  const { dir, run, backupOf } = await cliRepo();
  const old = await backupOf({ "old.txt": new TextEncoder().encode("an older snapshot\n") });
  const a = await backupOf({ "a.txt": new TextEncoder().encode("snapshot a\n") });
  const b = await backupOf({ "b.txt": new TextEncoder().encode("snapshot b\n") });
  swapObjects(dir, layout.snapshot(a.id), layout.snapshot(b.id));

  const target = await tempDir();
  for (const command of [["restore", "latest", "--target", target], ["ls", "latest"]]) {
    const r = await run(...command);
    assert.equal(r.code, 1, `${command[0]} latest exited 0: ${r.stdout}`);
    assert.match(r.stderr, /"latest" cannot be used: the newest snapshot manifest is skipped/);
    assert.match(r.stderr, new RegExp(`newest usable snapshot is "${old.id.slice(0, 8)}"`));
  }
  assert.deepEqual(fs.readdirSync(target), [], "nothing restored");
  // Asked for by id, the older snapshot restores.
  const r = await run("restore", old.id.slice(0, 8), "--target", target);
  assert.equal(r.code, 0, r.stderr);
});

Deno.test("a copy planted under another snapshot's prefix is reported, and the prefix restores its own snapshot", async () => {
  const { dir, run, backupOf } = await cliRepo();
  const a = await backupOf({ "a.txt": new TextEncoder().encode("snapshot a\n") });
  const b = await backupOf({ "b.txt": new TextEncoder().encode("snapshot b\n") });
  const planted = layout.snapshot(
    a.id.slice(0, 8) + b.id.slice(8, 63) + (b.id[63] === "0" ? "1" : "0"),
  );
  await withRepo(dir, async (ingest) => {
    await ingest.storage.create(planted, await ingest.storage.read(layout.snapshot(b.id)));
  }, "ingest");

  const { code, problems } = await checkJson(run);
  assert.equal(code, 3);
  assert.ok(problems.some((p) => p.message.includes(`"${planted}"`)), JSON.stringify(problems));

  const target = await tempDir();
  const r = await run("restore", a.id.slice(0, 8), "--target", target);
  assert.equal(r.code, 0, r.stderr);
  const name = a.src.split("/").pop()!;
  assert.deepEqual(describeTree(join(target, name)), describeTree(a.src));
  assert.match(r.stderr, new RegExp(`warning: "${planted}"`));
});

Deno.test("check names the snapshots a missing pack breaks, and only those", async () => {
  const { dir, run, backupOf } = await cliRepo();
  const gone = await backupOf({ "a.bin": randomBytes(200_000, 6) });
  const kept = await backupOf({ "b.bin": randomBytes(200_000, 7) });
  const pack = await withRepo(dir, async (repo) => {
    await repo.loadIndex();
    const snap = await repo.snapshot(gone.id);
    const tree = await repo.tree(snap.manifest.root);
    const sub = await repo.tree(tree.nodes[0].subtree!);
    return repo.index.get(sub.nodes[0].content![0])!.pack;
  });
  fs.rmSync(join(dir, objectPath(layout.pack(pack))));

  const { code, problems } = await checkJson(run);
  assert.equal(code, 3);
  const broken = problems.find((p) => p.snapshot === gone.id);
  assert.ok(broken, JSON.stringify(problems));
  assert.ok(broken.message.includes(`"packs/${pack}"`), broken.message);
  assert.ok(broken.message.includes("a.bin"), "names a file it cannot restore");
  assert.ok(!problems.some((p) => p.snapshot === kept.id), "the other snapshot is whole");
  const missing = problems.find((p) => p.pack === pack && !p.snapshot)!;
  assert.ok(missing.message.includes(gone.id.slice(0, 8)), missing.message);

  const r = await run("restore", gone.id, "--target", await tempDir());
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`packs/${pack}`));
  assert.match(r.stderr, /run `permafrost check`/);
});

Deno.test("restore names the pack and says what to do when a pack's header or sealed key is damaged", async () => {
  for (const [what, at] of [["sealed data key", 40], ["header magic", 0]] as const) {
    const { dir, run, backupOf } = await cliRepo();
    const { src } = await backupOf({ "a.bin": randomBytes(100_000, 8) });
    const pack = await withRepo(dir, async (repo) => {
      await repo.loadIndex();
      return dataPacks(repo)[0].id;
    });
    const path = join(dir, objectPath(layout.pack(pack)));
    const bytes = fs.readFileSync(path);
    bytes[at] ^= 0x01;
    fs.chmodSync(path, 0o644);
    fs.writeFileSync(path, bytes);

    const r = await run("restore", "latest", "--target", await tempDir());
    assert.equal(r.code, 1, what);
    assert.match(r.stderr, new RegExp(`pack "${pack}"`), `${what}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`"/${src.split("/").pop()}/a.bin"`), what);
    assert.match(r.stderr, /permafrost check --read-data/, what);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
  }
});

Deno.test("an index segment or key object stored under another name is skipped, reported and stops gc", async () => {
  const { dir, backupOf } = await cliRepo();
  await backupOf({ "a.bin": randomBytes(100_000, 9) });
  await backupOf({ "b.bin": randomBytes(100_000, 10) });
  const [x, y] = fs.readdirSync(join(dir, "index"));
  swapObjects(dir, `index/${x}`, `index/${y}`);
  const key = fs.readdirSync(join(dir, "keys"))[0];
  const copy = `keys/${"f".repeat(64)}`;
  fs.copyFileSync(join(dir, "keys", key), join(dir, objectPath(copy)));

  await withRepo(dir, async (repo) => {
    await repo.loadIndex();
    for (const s of [x, y]) assert.ok(!repo.segments().some((g) => g.id === s), s);
    assert.deepEqual([...repo.undecodable].sort(), [`index/${x}`, `index/${y}`].sort());
    const { problems } = await check(repo);
    for (const name of [`index/${x}`, `index/${y}`, copy]) {
      assert.ok(problems.some((p) => p.message.includes(`"${name}"`)), name);
    }
    await assert.rejects(markRepository(repo), /index\//);
  });
});
