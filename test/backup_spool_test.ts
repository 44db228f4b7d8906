/**
 * A backup builds its data packs in a spool folder of the cache (`<cache>/<repo id>/spool`,
 * host/repository/pack_buffer.ts `PackSpool`), through the real CLI: it leaves the folder
 * empty, a later backup removes what a killed one left there, and a full disk there fails the
 * backup with a clear error, committing nothing.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { cli, randomBytes, tempDir } from "./helpers.ts";

/** The files in folder `dir` (none when it does not exist). */
function filesIn(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/** The one repository folder in cache folder `cache` (named by the repository id). */
function repoCache(cache: string): string {
  const dirs = fs.readdirSync(cache).filter((n) => /^[0-9a-f]{64}$/.test(n));
  assert.equal(dirs.length, 1, `cache folders: ${dirs}`);
  return join(cache, dirs[0]);
}

Deno.test("a backup leaves its spool folder empty, and the next one removes a spool file a killed run left", async () => {
  const dir = await tempDir();
  const repo = join(dir, "repo");
  const src = join(dir, "src");
  const cache = join(dir, "cache");
  fs.mkdirSync(src);
  fs.writeFileSync(join(src, "a.bin"), randomBytes(3 << 20, 1));
  const env = { PERMAFROST_CACHE_DIR: cache };
  assert.equal((await cli(["init", "--repo", repo], env)).code, 0);
  const first = await cli(["backup", "--repo", repo, src], env);
  assert.equal(first.code, 0, first.stderr);
  const spool = join(repoCache(cache), "spool");
  assert.deepEqual(filesIn(spool), []);

  // What `kill -9` leaves: a spool file nobody holds the lock of.
  fs.writeFileSync(join(spool, "0123456789abcdef0123456789abcdef"), randomBytes(1000, 2));
  fs.writeFileSync(join(src, "b.bin"), randomBytes(2 << 20, 3));
  const second = await cli(["backup", "--repo", repo, src], env);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(filesIn(spool), []);
  const check = await cli(["check", "--read-data", "--repo", repo], env);
  assert.equal(check.code, 0, check.stderr);
});

Deno.test("backup --dry-run spools its data packs too, and leaves no spool file and no pack", async () => {
  const dir = await tempDir();
  const repo = join(dir, "repo");
  const src = join(dir, "src");
  const cache = join(dir, "cache");
  fs.mkdirSync(src);
  fs.writeFileSync(join(src, "a.bin"), randomBytes(3 << 20, 4));
  const env = { PERMAFROST_CACHE_DIR: cache };
  assert.equal((await cli(["init", "--repo", repo], env)).code, 0);
  const out = await cli(["backup", "--dry-run", "--repo", repo, src], env);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(filesIn(join(repoCache(cache), "spool")), []);
  const packDir = join(repo, "packs");
  const packs = fs.existsSync(packDir) ? fs.readdirSync(packDir, { recursive: true }) : [];
  assert.deepEqual(packs.filter((n) => /[0-9a-f]{64}$/.test(String(n))), []);
  assert.deepEqual(filesIn(join(repo, "tmp")), []);
});

/** Whether this process may mount a tmpfs (root in a container that allows it). */
function canMount(): boolean {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const at = Deno.makeTempDirSync();
  try {
    const tried = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", at],
    })
      .outputSync();
    if (!tried.success) return false;
    new Deno.Command("umount", { args: [at] }).outputSync();
    return true;
  } catch {
    return false;
  } finally {
    Deno.removeSync(at, { recursive: true });
  }
}

Deno.test({
  name:
    "a full disk under the spool fails the backup naming it, commits no snapshot and leaves no pack or spool file" +
    (canMount() ? "" : " (skipped: mounting a small tmpfs needs root on Linux)"),
  ignore: !canMount(),
  async fn() {
    const dir = await tempDir();
    const repo = join(dir, "repo");
    const src = join(dir, "src");
    const cache = join(dir, "cache");
    fs.mkdirSync(src);
    fs.mkdirSync(cache);
    fs.writeFileSync(join(src, "a.bin"), randomBytes(8 << 20, 1));
    const env = { PERMAFROST_CACHE_DIR: cache };
    assert.equal((await cli(["init", "--repo", repo], env)).code, 0);
    const mount = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=2m", "tmpfs", cache],
    }).outputSync();
    assert.ok(mount.success, new TextDecoder().decode(mount.stderr));
    try {
      const out = await cli(["backup", "--repo", repo, src], env);
      assert.notEqual(out.code, 0);
      assert.match(out.stderr, /pack spool ".*" could not be written: the disk is full/);
      assert.doesNotMatch(out.stderr, /\n\s+at /, "no stack trace");
      assert.deepEqual(filesIn(join(repoCache(cache), "spool")), []);
    } finally {
      new Deno.Command("umount", { args: [cache] }).outputSync();
    }
    const snapshots = await cli(["snapshots", "--repo", repo, "--json"], env);
    assert.equal(snapshots.code, 0, snapshots.stderr);
    assert.deepEqual(JSON.parse(snapshots.stdout), []);
    const packDir = join(repo, "packs");
    const packs = fs.existsSync(packDir) ? fs.readdirSync(packDir, { recursive: true }) : [];
    assert.deepEqual(packs.filter((n) => /[0-9a-f]{64}$/.test(String(n))), []);
  },
});
