/**
 * What killed writes leave behind (issue #12, case 8): a backup killed while the local store
 * writes a pack leaves its partial file in the repository's `tmp/`, which is no object and was
 * never reported nor removed. `check` reports such strays (count, bytes), and `gc purge`
 * removes those older than its grace period (host/ops/strays.ts, docs/gc.md "Purge").
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { cli, randomBytes, tempDir } from "./helpers.ts";

/** A partial pack as a create killed before its link leaves it: `tmp/<random>`, `ageMs` old. */
function leavePartialPack(repo: string, name: string, size: number, ageMs: number): string {
  const file = join(repo, "tmp", name);
  fs.writeFileSync(file, randomBytes(size, size));
  const t = new Date(Date.now() - ageMs);
  fs.utimesSync(file, t, t);
  return file;
}

Deno.test("check reports the partial packs killed backups left, and gc purge removes those past its grace period", async () => {
  const repo = join(await tempDir(), "repo");
  const env = { PERMAFROST_REPO: repo };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(300_000, 5));
  assert.equal((await cli(["backup", src], env)).code, 0);

  const old = leavePartialPack(repo, "0f".repeat(16), 3 << 20, 3 * 86_400_000);
  const young = leavePartialPack(repo, "1e".repeat(16), 1 << 20, 60_000);

  const checked = await cli(["check"], env);
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  assert.match(checked.stdout, /2 partial uploads left by interrupted writes \(4\.0 MiB/);
  assert.match(checked.stdout, /no problems found/);
  const json = JSON.parse((await cli(["check", "--json"], env)).stdout);
  assert.equal(json.strays.count, 2);
  assert.equal(json.strays.bytes, 4 << 20);

  const planned = await cli(["gc", "purge", "--dry-run"], env);
  assert.match(
    planned.stdout + planned.stderr,
    /1 partial uploads of interrupted writes \(3\.0 MiB\) to remove; 1 within the grace period are left/,
  );
  assert.ok(fs.existsSync(old), "a dry run removes nothing");

  const purged = await cli(["gc", "purge", "--yes"], env);
  assert.equal(purged.code, 0, purged.stderr);
  assert.match(purged.stdout, /removed 1 partial uploads \(3\.0 MiB\)/);
  assert.equal(fs.existsSync(old), false, "the stray past the grace period is removed");
  assert.ok(fs.existsSync(young), "a stray within the grace period may be a write under way");

  const after = JSON.parse((await cli(["check", "--json"], env)).stdout);
  assert.deepEqual([after.strays.count, after.problems], [1, []]);
});
