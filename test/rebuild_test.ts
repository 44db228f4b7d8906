/**
 * `permafrost rebuild` end to end through the CLI, on the local back end in "simulate cold" mode
 * (packs archived until a restore request, readable after a delay): two snapshots are backed up,
 * every hot object but `config` and `keys/*` is deleted (index segments, snapshot manifests, hot
 * copies of metadata packs), and the rebuild, from the cold packs alone, gives back the same
 * snapshots (same ids), the same listings and the same restored bytes, restoring only the
 * metadata packs.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import type { PackState } from "../host/cold/pack_survey.ts";
import { requestThaw } from "../host/cold/restore_requests.ts";
import { sha256Hex } from "../host/crypto/hash.ts";
import { blobId } from "../host/crypto/mac.ts";
import { backup } from "../host/ops/backup.ts";
import {
  missingBlobs,
  needsUnnamedPacks,
  readDataTocs,
  scanMetadata,
  writeRebuild,
} from "../host/ops/rebuild.ts";
import { planRebuild } from "../host/ops/rebuild_plan.ts";
import { encodeIndexSegment } from "../host/repository/index_segment.ts";
import { layout } from "../host/repository/layout.ts";
import { PackWriter } from "../host/repository/pack.ts";
import { Repository } from "../host/repository/repository.ts";
import { openStorage } from "../host/storage/open.ts";
import {
  cli,
  describeTree,
  finishColdRestores,
  initColdRepo,
  PASSWORD,
  randomBytes,
  tempDir,
  TEST_KDF,
} from "./helpers.ts";

/** A restore takes this long, unless a test ends it (`finishColdRestores`). */
const DELAY_SECONDS = 3600;

const json = (s: string) => JSON.parse(s);

/** A repository with two snapshots of a changing folder, and what the CLI says about them. */
async function setup(delay = DELAY_SECONDS) {
  const { dir, env } = await initColdRepo(delay);
  const src = await tempDir();
  for (const d of ["a", "b"]) {
    fs.mkdirSync(join(src, d));
    for (let i = 0; i < 3; i++) {
      fs.writeFileSync(join(src, d, `f${i}`), randomBytes(600_000, d.charCodeAt(0) * 10 + i));
    }
  }
  const first = await cli(["backup", src, "--tag", "one"], env);
  assert.equal(first.code, 0, first.stderr);
  fs.writeFileSync(join(src, "a", "f1"), randomBytes(500_000, 99));
  fs.writeFileSync(join(src, "new.txt"), "added for the second snapshot\n");
  const second = await cli(["backup", src], env);
  assert.equal(second.code, 0, second.stderr);
  const snapshots = await cli(["snapshots", "--json"], env);
  assert.equal(snapshots.code, 0, snapshots.stderr);
  const ids = json(snapshots.stdout).map((s: { id: string }) => s.id);
  assert.equal(ids.length, 2);
  const listings = [];
  for (const id of ids) {
    const ls = await cli(["ls", id, "--json"], env);
    assert.equal(ls.code, 0, ls.stderr);
    listings.push(ls.stdout);
  }
  return { dir, env, src, name: src.split("/").pop()!, snapshots: snapshots.stdout, ids, listings };
}

/** Deletes every hot object but `config` and `keys/*`. */
function loseHotTier(dir: string): void {
  for (const hot of ["index", "snapshots", "meta"]) {
    fs.rmSync(join(dir, hot), { recursive: true, force: true });
  }
}

/** The simulated cold records (`.cold/`): label and whether a restore was requested, per pack. */
function coldRecords(dir: string): { name: string; label?: string; restored: boolean }[] {
  return fs.readdirSync(join(dir, ".cold")).map((f) => {
    const r = JSON.parse(fs.readFileSync(join(dir, ".cold", f), "utf8"));
    return { name: r.name, label: r.label, restored: r.restore !== undefined };
  });
}

Deno.test("rebuild from the cold packs alone gives back the same snapshots, listings and restores, restoring only the metadata packs", async () => {
  const { dir, env, src, name, snapshots, ids, listings } = await setup();
  const packs = coldRecords(dir);
  const metaPacks = packs.filter((p) => p.label === "meta");
  const dataPacks = packs.filter((p) => p.label === "data");
  assert.equal(metaPacks.length + dataPacks.length, packs.length, "every pack is labelled");
  assert.ok(dataPacks.length >= 4, `${dataPacks.length} data packs`);
  assert.ok(metaPacks.length >= 2, `${metaPacks.length} metadata packs`);
  const keyFile = join(await tempDir(), "ingest.key");
  assert.equal((await cli(["key", "ingest", "--out", keyFile], env)).code, 0);

  loseHotTier(dir);
  const none = await cli(["snapshots", "--json"], env);
  assert.deepEqual(json(none.stdout), [], "the hot tier is gone");

  // An ingest key is refused before anything is listed, restored or written.
  const ingest = await cli(["rebuild"], { ...env, PERMAFROST_KEY_FILE: keyFile });
  assert.notEqual(ingest.code, 0);
  assert.match(ingest.stderr, /rebuild needs the admin role: this is a put-only \(ingest\) key/);
  assert.ok(coldRecords(dir).every((p) => !p.restored), "nothing was requested");

  // The plan: every pack classified by its label, without a restore.
  const dry = await cli(["rebuild", "--dry-run", "--json"], env);
  assert.equal(dry.code, 0, dry.stderr);
  const plan = json(dry.stdout);
  assert.equal(plan.packs, packs.length);
  assert.equal(plan.metadata.packs, metaPacks.length);
  assert.equal(plan.data.packs, dataPacks.length);
  assert.equal(plan.unknown.packs, 0);
  assert.deepEqual(plan.kindFrom, { label: packs.length, header: 0 });
  assert.equal(plan.restore.packs, metaPacks.length);
  assert.equal(plan.cold.archived.packs, metaPacks.length);

  // The estimate: metadata only is the chosen case, every pack the worst, at home and in the region.
  const est = await cli(["rebuild", "--estimate", "--json"], env);
  assert.equal(est.code, 0, est.stderr);
  const e = json(est.stdout);
  assert.deepEqual(
    e.alternatives.map((a: { case: string; to: string }) => `${a.case} ${a.to}`),
    ["metadata internet", "metadata region", "every-pack internet", "every-pack region"],
  );
  assert.equal(e.total_usd, e.alternatives[0].total_usd);
  assert.ok(e.alternatives[2].total_usd > e.total_usd, "every pack costs more");
  const text = await cli(["rebuild", "--estimate"], env);
  assert.match(text.stdout, /metadata packs only .* at home \(chosen\)/);
  assert.match(text.stdout, /every pack, if needed/);

  // First run: requests the metadata packs' restores, writes nothing, exits 4.
  const first = await cli(["rebuild", "--json"], env);
  assert.equal(first.code, 4, first.stderr);
  const waiting = json(first.stdout);
  assert.equal(waiting.waiting, true);
  assert.equal(waiting.requested, metaPacks.length);
  assert.equal(waiting.rerun, "permafrost rebuild");
  for (const hot of ["index", "snapshots", "meta"]) {
    assert.ok(!fs.existsSync(join(dir, hot)), `nothing written to ${hot}/ yet`);
  }

  // Run again once thawed: the hot tier is back.
  assert.equal(finishColdRestores(dir), metaPacks.length);
  const done = await cli(["rebuild", "--json"], env);
  assert.equal(done.code, 0, done.stderr);
  const result = json(done.stdout);
  assert.equal(result.snapshots.written, 2);
  assert.deepEqual([...result.snapshots.ids].sort(), [...ids].sort());
  assert.equal(result.metaCopies.written, metaPacks.length);
  assert.equal(result.indexedPacks, packs.length);
  assert.deepEqual(result.problems, []);
  assert.equal(result.cacheDeleted, true, "the file cache of the backups is gone");
  const cached = fs.readdirSync(env.PERMAFROST_CACHE_DIR, { recursive: true }).map(String);
  assert.ok(!cached.some((f) => f.endsWith("files.sqlite")), cached.join(", "));

  const after = coldRecords(dir);
  for (const p of after) {
    assert.equal(p.restored, p.label === "meta", `${p.name} (${p.label}) restored: ${p.restored}`);
  }

  assert.equal((await cli(["snapshots", "--json"], env)).stdout, snapshots, "same snapshots");
  for (const [i, id] of ids.entries()) {
    const ls = await cli(["ls", id, "--json"], env);
    assert.equal(ls.stdout, listings[i], `same listing of ${id}`);
  }
  const check = await cli(["check"], env);
  assert.equal(check.code, 0, check.stdout + check.stderr);

  // Again: nothing left to do. Then with only the manifests lost: only they are written.
  const again = json((await cli(["rebuild", "--json"], env)).stdout);
  assert.deepEqual(
    [again.snapshots.written, again.snapshots.present, again.segments, again.metaCopies.written],
    [0, 2, 0, 0],
  );
  fs.rmSync(join(dir, "snapshots"), { recursive: true });
  const manifests = json((await cli(["rebuild", "--json"], env)).stdout);
  assert.deepEqual([manifests.snapshots.written, manifests.segments], [2, 0]);

  // A restore of the rebuilt latest snapshot thaws its data packs and gives back the files.
  const target = await tempDir();
  const asked = await cli(["restore", "latest", "--target", target, "--json"], env);
  assert.equal(asked.code, 4, asked.stderr);
  const { job, requested } = json(asked.stdout);
  assert.ok(requested >= 1, asked.stdout);
  assert.equal(finishColdRestores(dir), requested, "the restores it asked for");
  const r = await cli(["restore", "--resume", job], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(describeTree(join(target, name)), describeTree(src));
});

Deno.test("rebuild --wait restores the metadata packs and finishes in one run", async () => {
  // The CLI's own wait: restores that take a second, surveyed every second until it exits.
  const { dir, env, snapshots } = await setup(1);
  loseHotTier(dir);
  const r = await cli(["rebuild", "--wait", "--poll", "1"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /packs readable/);
  assert.match(r.stdout, /rebuilt: 2 snapshot manifests written/);
  assert.equal((await cli(["snapshots", "--json"], env)).stdout, snapshots);
});

/**
 * A repository (cold simulated, restores ready at once) with one backup of `src`, whose file
 * `old.txt` was first stored by an "old writer": a data pack of its own that no pack-index blob
 * names, created with or without a label, and indexed by a segment of its own, so the backup
 * dedups against it. Plus, when `orphan`, a labelled data pack that nothing references.
 */
async function oldWriterRepo(options: { label: boolean; orphan: boolean }) {
  const dir = join(await tempDir(), "repo");
  const location = `local:${dir}?cold=simulate&restore-delay=0`;
  const storage = await openStorage(location, "admin", { create: true });
  const repo = await Repository.init(storage, PASSWORD, { kdf: TEST_KDF });
  const src = await tempDir();
  const old = new TextEncoder().encode("stored by an old writer, before pack indexes\n");
  fs.writeFileSync(join(src, "old.txt"), old);
  fs.writeFileSync(join(src, "new.txt"), randomBytes(200_000, 5));
  const writeDataPack = async (blob: Uint8Array, label?: string) => {
    const w = new PackWriter({
      publicKey: repo.keys.publicKey,
      metadata: false,
      frameSize: 1 << 16,
      level: 3,
    });
    w.add(blobId(repo.keys.macKey, blob), "data", blob);
    const p = w.finish();
    const indexed = { pack: p.id, metadata: false, length: p.data.length, blobs: p.blobs };
    await storage.create(layout.pack(p.id), p.data, label ? { label } : {});
    const segment = encodeIndexSegment(repo.keys.indexKey, [indexed], {
      level: repo.config.compression.level,
    });
    await storage.create(layout.index(sha256Hex(segment)), segment);
    return p.id;
  };
  const oldPack = await writeDataPack(old, options.label ? "data" : undefined);
  const orphan = options.orphan ? await writeDataPack(randomBytes(1000, 8), "data") : undefined;
  await repo.loadIndex();
  const b = await backup(repo, { paths: [src] });
  await storage.close();
  loseHotTier(dir);
  const again = await Repository.open(await openStorage(location, "admin"), {
    passphrase: PASSWORD,
  });
  return { repo: again, oldPack, orphan, snapshot: b.id!, dir, location };
}

/** Makes `packs` readable (the simulation restores at once). */
async function thawNow(repo: Repository, packs: PackState[]) {
  await requestThaw(repo.storage, packs, { tier: "bulk", days: 1 });
}

Deno.test("a data pack no pack index names is read (its TOC) only because a snapshot needs a blob in it", async () => {
  const { repo, oldPack, snapshot, dir } = await oldWriterRepo({ label: true, orphan: false });
  try {
    const plan = await planRebuild(repo);
    assert.equal(plan.unknown.packs, 0);
    assert.ok(plan.first.every((p) => p.kind === "meta"));
    await thawNow(repo, plan.first);
    const scan = await scanMetadata(repo, plan);
    assert.deepEqual(scan.unnamed.map((p) => p.id), [oldPack]);
    const need = await needsUnnamedPacks(repo, scan);
    assert.deepEqual(need, { needed: true, missing: 1 }, "old.txt's only chunk");
    await assert.rejects(readDataTocs(repo, scan, scan.unnamed), /archived|restore/);
    await thawNow(repo, scan.unnamed);
    await readDataTocs(repo, scan, scan.unnamed);
    assert.deepEqual(scan.unnamed, []);
    assert.equal((await missingBlobs(repo, scan)).size, 0);
    const result = await writeRebuild(repo, scan);
    assert.deepEqual(result.snapshots.ids, [snapshot]);
    const restored = coldRecords(dir).filter((r) => r.restored).map((r) => r.name);
    const dataRestored = restored.filter((n) => !plan.first.some((p) => p.name === n));
    assert.deepEqual(dataRestored, [layout.pack(oldPack)], "no other data pack was restored");
  } finally {
    await repo.storage.close();
  }
});

Deno.test("an unlabelled archived pack is restored with the metadata packs to read its header; an unneeded unnamed data pack is left alone", async () => {
  const { repo, oldPack, orphan, snapshot, dir } = await oldWriterRepo({
    label: false,
    orphan: true,
  });
  try {
    const plan = await planRebuild(repo);
    assert.deepEqual(plan.packs.filter((p) => p.kind === "unknown").map((p) => p.id), [oldPack]);
    await thawNow(repo, plan.first);
    const scan = await scanMetadata(repo, plan);
    assert.ok(scan.dataPacks.has(oldPack), "its own TOC located it");
    assert.deepEqual(scan.unnamed.map((p) => p.id), [orphan]);
    assert.deepEqual(await needsUnnamedPacks(repo, scan), { needed: false, missing: 0 });
    const result = await writeRebuild(repo, scan);
    assert.deepEqual(result.snapshots.ids, [snapshot]);
    const orphanRecord = coldRecords(dir).find((r) => r.name === layout.pack(orphan!))!;
    assert.equal(orphanRecord.restored, false, "the orphan stays archived");
    await repo.loadIndex();
    assert.equal(repo.index.pack(orphan!), undefined, "and unindexed");
    assert.ok(repo.index.pack(oldPack));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("the CLI restores unnamed data packs in a second round, saying why, and then finishes", async () => {
  const { repo, snapshot, location } = await oldWriterRepo({ label: true, orphan: false });
  await repo.storage.close();
  const env = {
    PERMAFROST_REPO: location,
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
  };
  const first = await cli(["rebuild", "--json"], env);
  assert.equal(first.code, 4, first.stderr);
  const second = await cli(["rebuild"], env);
  assert.equal(second.code, 4, second.stderr);
  assert.match(
    second.stderr,
    /1 data packs that no pack index names \(.*\): 1 blobs the snapshots need are in none/,
  );
  assert.match(second.stdout, /nothing was written/);
  const third = await cli(["rebuild", "--json"], env);
  assert.equal(third.code, 0, third.stderr);
  assert.deepEqual(json(third.stdout).snapshots.ids, [snapshot]);
  assert.equal((await cli(["check"], env)).code, 0);
});
