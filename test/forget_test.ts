import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "../host/crypto/hash.ts";
import { layout } from "../host/repository/layout.ts";
import { encodeSnapshot } from "../host/repository/snapshot.ts";
import { cli, describeTree, reopen, tempDir, writeSampleTree } from "./helpers.ts";

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
