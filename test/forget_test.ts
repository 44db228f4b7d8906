import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../host/crypto/hash.ts";
import { layout } from "../host/repository/layout.ts";
import { encodeSnapshot } from "../host/repository/snapshot.ts";
import {
  cli,
  describeTree,
  initColdRepo,
  randomBytes,
  reopen,
  tempDir,
  writeSampleTree,
} from "./helpers.ts";

/**
 * A repository with four snapshots of one folder (tags t1, t2, t3, then "forged": a copy of
 * t3's manifest written through the library with a claimed time in 2020, though the store
 * received it last) and one of another folder (tag "other").
 */
async function setup() {
  const repo = join(await tempDir(), "repo");
  const env = { PERMAFROST_REPO: repo, PERMAFROST_CACHE_DIR: await tempDir() };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await tempDir();
  writeSampleTree(src);
  const ids: Record<string, string> = {};
  const backup = async (path: string, tag: string) => {
    const b = await cli(["backup", path, "--tag", tag, "--json"], env);
    assert.equal(b.code, 0, b.stderr);
    ids[tag] = JSON.parse(b.stdout).snapshot;
  };
  for (const tag of ["t1", "t2", "t3"]) {
    fs.writeFileSync(join(src, `${tag}.txt`), `written before ${tag}\n`);
    await backup(src, tag);
  }
  const other = await tempDir();
  fs.writeFileSync(join(other, "note.txt"), "another folder\n");
  await backup(other, "other");

  const lib = await reopen(repo);
  try {
    const t3 = await lib.snapshot(ids.t3);
    const bytes = encodeSnapshot(lib.keys.indexKey, {
      ...t3.manifest,
      time: "2020-01-01T00:00:00.000Z",
      tags: ["forged"],
    });
    ids.forged = sha256Hex(bytes);
    await lib.storage.create(layout.snapshot(ids.forged), bytes);
  } finally {
    await lib.storage.close();
  }
  return { repo, env, src, name: src.split("/").pop()!, ids };
}

const snapshotFiles = (repo: string) => fs.readdirSync(join(repo, "snapshots")).sort();

Deno.test("forget --dry-run prints the plan, flags a wrong claimed time and deletes nothing", async () => {
  const { repo, env, ids } = await setup();
  const before = snapshotFiles(repo);
  assert.equal(before.length, 5);

  const text = await cli(["forget", "--keep-last", "2", "--dry-run"], env);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`keep    ${ids.forged.slice(0, 8)} .*\\(last snapshot\\)`));
  assert.match(text.stdout, new RegExp(`forget  ${ids.t1.slice(0, 8)}`));
  assert.match(
    text.stdout,
    new RegExp(`${ids.forged.slice(0, 8)}: claimed time disagrees with the store; the store's`),
  );
  assert.match(text.stdout, /dry run: nothing was deleted \(2 snapshots would be forgotten\)/);

  const json = await cli(["forget", "--keep-last", "2", "--dry-run", "--json"], env);
  assert.equal(json.code, 0, json.stderr);
  const plan = JSON.parse(json.stdout);
  assert.equal(plan.dryRun, true);
  assert.deepEqual(plan.deleted, []);
  assert.deepEqual(plan.forget.map((s: { id: string }) => s.id), [ids.t2, ids.t1]);
  assert.deepEqual(plan.disagreements.map((d: { id: string }) => d.id), [ids.forged]);
  assert.deepEqual(snapshotFiles(repo), before);
});

Deno.test("forget --keep-last 2 keeps the newest two per host and paths; a rerun finishes a stopped run", async () => {
  const { repo, env, src, name, ids } = await setup();
  // A run stopped after its first delete: t2 (the newest forgotten) is already gone.
  fs.rmSync(join(repo, "snapshots", ids.t2));

  const r = await cli(["forget", "--keep-last", "2", "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).deleted, [ids.t1]);
  // by claimed time "forged" (2020) would be the oldest; by the store's time it is the newest
  assert.deepEqual(snapshotFiles(repo), [ids.forged, ids.other, ids.t3].sort());
  const listed = JSON.parse((await cli(["snapshots", "--json"], env)).stdout);
  assert.equal(listed.length, 3);
  for (const p of ["packs", "index"]) assert.ok(fs.readdirSync(join(repo, p)).length > 0);

  const target = await tempDir();
  const restored = await cli(["restore", ids.t3, "--target", target], env);
  assert.equal(restored.code, 0, restored.stderr);
  assert.deepEqual(describeTree(join(target, name)), describeTree(src));
  assert.equal((await cli(["check"], env)).code, 0);
});

Deno.test("forget refuses an ingest key before changing anything", async () => {
  const { repo, env } = await setup();
  const keyFile = join(await tempDir(), "ingest.key");
  assert.equal((await cli(["key", "ingest", "--out", keyFile], env)).code, 0);
  const before = snapshotFiles(repo);
  const r = await cli(["forget", "--keep-last", "1"], {
    ...env,
    PERMAFROST_KEY_FILE: keyFile,
    PERMAFROST_PASSWORD: "",
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /forget needs the admin role: this is a put-only \(ingest\) key/);
  assert.equal(r.stdout, "");
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
  assert.deepEqual(snapshotFiles(repo), before);
});

Deno.test("forget without a keep policy is a usage error", async () => {
  const repo = await tempDir(); // never opened: the flags are checked first
  const r = await cli(["forget", "--dry-run"], { PERMAFROST_REPO: repo });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /forget needs a keep policy/);
  const bad = await cli(["forget", "--keep-within", "soon"], { PERMAFROST_REPO: repo });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a duration/);
});

/** Every object file under `packs/` and `snapshots/` of a local repository folder. */
function storedFiles(repo: string): string[] {
  const packs = join(repo, "packs");
  const fans = fs.existsSync(packs) ? fs.readdirSync(packs).map((f) => join(packs, f)) : [];
  return [
    ...fans.flatMap((fan) => fs.readdirSync(fan).map((f) => join(fan, f))),
    ...fs.readdirSync(join(repo, "snapshots")).map((f) => join(repo, "snapshots", f)),
  ];
}

Deno.test("forget --keep-daily after a rebuild keeps and forgets the same snapshots, dated as before it", async () => {
  // Four backups that the store received on three days (its time of an object in a local
  // repository is the file's mtime: set here, since a test cannot wait days). Each run's packs
  // are dated a little before its manifest, as a backup stores them.
  const { dir, env } = await initColdRepo(0);
  const src = await tempDir();
  const days = [
    "2026-01-01T10:00:00Z",
    "2026-01-01T20:00:00Z",
    "2026-01-03T09:00:00Z",
    "2026-01-06T09:00:00Z",
  ];
  const ids: string[] = [];
  const dated = new Set<string>();
  for (const [i, day] of days.entries()) {
    fs.writeFileSync(join(src, `day${i}.bin`), randomBytes(100_000, i + 1));
    const b = await cli(["backup", src, "--json"], env);
    assert.equal(b.code, 0, b.stderr);
    ids.push(JSON.parse(b.stdout).snapshot);
    for (const file of storedFiles(dir).filter((f) => !dated.has(f))) {
      const at = new Date(Date.parse(day) + (file.includes("/snapshots/") ? 60_000 : 0));
      fs.utimesSync(file, at, at);
      dated.add(file);
    }
  }
  const forget = async () => {
    const r = await cli(["forget", "--keep-daily", "7", "--dry-run", "--json"], env);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    const decided = (list: { id: string; time: string }[]) => list.map((s) => [s.id, s.time]);
    return { keep: decided(plan.keep), forget: decided(plan.forget), plan };
  };
  const before = await forget();
  // Newest first; the first backup of 1 January is not its day's newest.
  assert.deepEqual(before.keep.map(([id]) => id), [ids[3], ids[2], ids[1]]);
  assert.deepEqual(before.forget.map(([id]) => id), [ids[0]]);

  // The hot tier is lost and rebuilt from the cold packs: every manifest is written today.
  for (const hot of ["index", "snapshots", "meta"]) {
    fs.rmSync(join(dir, hot), { recursive: true, force: true });
  }
  const requested = await cli(["rebuild"], env);
  assert.equal(requested.code, 4, requested.stderr);
  const rebuilt = await cli(["rebuild", "--json"], env);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  assert.deepEqual(JSON.parse(rebuilt.stdout).snapshots.ids.toSorted(), ids.toSorted());

  const after = await forget();
  assert.deepEqual(after.keep, before.keep);
  assert.deepEqual(after.forget, before.forget);
  assert.deepEqual(after.plan.fallbacks, []);
  const datedBy = [...after.plan.keep, ...after.plan.forget].map((s: { datedBy: string }) =>
    s.datedBy
  );
  assert.deepEqual(datedBy, ["pack", "pack", "pack", "pack"]);
  assert.equal(after.plan.dating.packsRead, 4, "one metadata pack per snapshot, read once");
});
