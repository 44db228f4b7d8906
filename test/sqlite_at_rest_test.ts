/**
 * The single-file SQLite repository is one file at rest (issue 12, case 7), through the real
 * CLI: after a command ends, whether it succeeded, failed or was stopped by SIGINT, `repo.db`
 * copied alone is the whole repository; a command killed with SIGKILL may leave SQLite's
 * journal, and the next command heals the file; a backup and `snapshots` run on one file at
 * once.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { basename, join } from "node:path";
import { cli, describeTree, randomBytes, spawnCli, tempDir, writeSampleTree } from "./helpers.ts";

/** A sqlite repository made by `init` (1 MiB packs), and a `cli` bound to it. */
async function sqliteRepo() {
  const dir = await tempDir();
  const db = join(dir, "repo.db");
  const env = {
    PERMAFROST_REPO: `sqlite:${db}`,
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
  };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const run = (args: string[], more: Record<string, string> = {}) => cli(args, { ...env, ...more });
  return { dir, db, env, run };
}

/** The names in `dir`, sorted. */
function names(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

/** A copy of `db` alone (none of the files beside it) in a fresh folder, as a location. */
async function copyAlone(db: string): Promise<string> {
  const copy = join(await tempDir(), "copy.db");
  fs.copyFileSync(db, copy);
  return `sqlite:${copy}`;
}

/** A source folder of `mib` files of 1 MiB of distinct bytes (one pack each). */
async function bigSource(mib: number): Promise<string> {
  const src = await tempDir();
  for (let i = 0; i < mib; i++) {
    fs.writeFileSync(join(src, `f${i}.bin`), randomBytes(1 << 20, i + 1));
  }
  return src;
}

/**
 * Starts `backup src` and resolves once it is writing into `db`: SQLite made or changed the
 * file's journal (or, as an earlier version did, its -wal).
 */
async function backupWriting(
  db: string,
  src: string,
  env: Record<string, string>,
): Promise<Deno.ChildProcess> {
  const watcher = Deno.watchFs(join(db, ".."));
  const child = spawnCli(["backup", src], env);
  try {
    for await (const event of watcher) {
      if (event.paths.some((p) => p === `${db}-journal` || p === `${db}-wal`)) break;
    }
  } finally {
    watcher.close();
  }
  return child;
}

/** `check --read-data` of `location` passes, and `snapshots` there lists `count` snapshots. */
async function assertWhole(location: string, env: Record<string, string>, count: number) {
  const checked = await cli(["check", "--read-data", "--repo", location], env);
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  const listed = await cli(["snapshots", "--json", "--repo", location], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(JSON.parse(listed.stdout).length, count);
}

Deno.test("after a CLI backup into sqlite, repo.db copied alone restores byte-exact, and nothing is left beside it", async () => {
  const { dir, db, run } = await sqliteRepo();
  const src = await tempDir();
  writeSampleTree(src);
  const backup = await run(["backup", src]);
  assert.equal(backup.code, 0, backup.stderr);

  const copy = await copyAlone(db);
  const listed = await run(["snapshots", "--json", "--repo", copy]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(JSON.parse(listed.stdout).length, 1);
  const target = await tempDir();
  const restored = await run(["restore", "latest", "--target", target, "--repo", copy]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.deepEqual(describeTree(join(target, basename(src))), describeTree(src));
  assert.deepEqual(names(dir), ["repo.db"]);
});

Deno.test("after failing commands (a wrong passphrase, a missing source) repo.db alone is the whole repository", async () => {
  const { dir, db, env, run } = await sqliteRepo();
  const src = await tempDir();
  writeSampleTree(src);
  assert.equal((await run(["backup", src])).code, 0);
  const wrong = await run(["backup", src], { PERMAFROST_PASSWORD: "wrong horse" });
  assert.equal(wrong.code, 1, wrong.stderr);
  const missing = await run(["backup", join(src, "no such folder")]);
  assert.notEqual(missing.code, 0, missing.stderr);
  await assertWhole(await copyAlone(db), env, 1);
  assert.deepEqual(names(dir), ["repo.db"]);
});

Deno.test("a backup into sqlite stopped by SIGINT while writing finishes the write, and repo.db alone is whole", async () => {
  const { dir, db, env } = await sqliteRepo();
  const child = await backupWriting(db, await bigSource(24), env);
  child.kill("SIGINT");
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 130, stderr);
  assert.match(stderr, /interrupted by SIGINT/);
  await assertWhole(await copyAlone(db), env, 0);
  assert.deepEqual(names(dir), ["repo.db"]);
});

Deno.test("a backup into sqlite killed with SIGKILL while writing: the next command heals repo.db, and check finds it whole", async () => {
  const { dir, db, env, run } = await sqliteRepo();
  const child = await backupWriting(db, await bigSource(24), env);
  child.kill("SIGKILL");
  await child.output();
  // A write cut off leaves its journal ("hot"); any next command rolls it back and deletes it.
  assert.ok(names(dir).every((n) => n === "repo.db" || n === "repo.db-journal"), `${names(dir)}`);
  const listed = await run(["snapshots", "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(names(dir), ["repo.db"]);
  await assertWhole(await copyAlone(db), env, 0);
  await assertWhole(`sqlite:${db}`, env, 0);
});

Deno.test("a backup and snapshots run on one sqlite file at once, and both succeed", async () => {
  const { dir, db, env, run } = await sqliteRepo();
  const first = await tempDir();
  writeSampleTree(first);
  assert.equal((await run(["backup", first])).code, 0);
  const backup = await backupWriting(db, await bigSource(16), env);
  let ended = false;
  const status = backup.output().finally(() => ended = true);
  const during: { code: number; stderr: string; overlapped: boolean }[] = [];
  while (!ended) {
    const r = await run(["snapshots", "--json"]);
    during.push({ ...r, overlapped: !ended });
  }
  const out = await status;
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.ok(during.some((r) => r.overlapped), "a snapshots run ended before the backup did");
  for (const r of during) assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(names(dir), ["repo.db"]);
  await assertWhole(await copyAlone(db), env, 2);
});
