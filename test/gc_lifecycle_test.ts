/**
 * The admin lifecycle end to end through the CLI on the local back end in cold-simulation mode
 * (docs/gc.md): forget, mark, compact (thawing the packs it repacks, exit 4 while they thaw),
 * purge (grace period, minimum storage duration, --accept-early-fee), with restores byte-exact
 * and `check` clean after every stage; an ingest key can run none of it.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import {
  cli,
  describeTree,
  finishColdRestores,
  initColdRepo,
  randomBytes,
  tempDir,
} from "./helpers.ts";

const json = (s: string) => JSON.parse(s);

/** A restore takes this long, unless a test ends it (`finishColdRestores`). */
const DELAY_SECONDS = 3600;

async function setup() {
  const { dir, env } = await initColdRepo(DELAY_SECONDS, { PERMAFROST_CONFIRM_USD: "1000" });
  const src = await tempDir();
  const write = (rel: string, n: number, seed: number) => {
    fs.mkdirSync(join(src, rel, ".."), { recursive: true });
    fs.writeFileSync(join(src, rel), randomBytes(n, seed));
  };
  // gone/c.bin is larger than any 1 MiB pack gets, so at least one pack holds only it; the
  // small files of mix/ are single blobs packed one after another, so the one deleted shares
  // its pack with a kept one.
  write("gone/c.bin", 2_500_000, 3);
  write("keep/a.bin", 900_000, 1);
  write("mix/a.bin", 10_000, 6);
  write("mix/b.bin", 10_000, 7);
  write("mix/c.bin", 10_000, 8);
  const first = await cli(["backup", src, "--json"], env);
  assert.equal(first.code, 0, first.stderr);
  fs.rmSync(join(src, "gone"), { recursive: true });
  fs.rmSync(join(src, "mix/b.bin"));
  write("new/e.bin", 400_000, 5);
  const second = await cli(["backup", src, "--json"], env);
  assert.equal(second.code, 0, second.stderr);
  return { env, src, dir, name: src.split("/").pop()! };
}

/**
 * Restores the latest snapshot of the repository in `dir` and compares it with `src`: when
 * `thaws`, the restore first asks for the archived packs (exit 4), and resumes once they thaw;
 * otherwise every pack it needs is readable already.
 */
async function restoresExactly(
  env: Record<string, string>,
  dir: string,
  src: string,
  name: string,
  thaws: boolean,
) {
  const target = await tempDir();
  let r = await cli(["restore", "latest", "--target", target, "--json"], env);
  if (thaws) {
    assert.equal(r.code, 4, r.stdout + r.stderr);
    const { job, requested } = json(r.stdout);
    assert.ok(requested >= 1, r.stdout);
    assert.equal(finishColdRestores(dir), requested);
    r = await cli(["restore", "--resume", job], env);
  }
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(describeTree(join(target, name)), describeTree(src));
}

async function checkClean(env: Record<string, string>) {
  const c = await cli(["check", "--json"], env);
  assert.equal(c.code, 0, c.stdout + c.stderr);
  return json(c.stdout);
}

Deno.test("forget, mark, compact, purge: the whole lifecycle on cold simulation", async () => {
  const { env, src, dir, name } = await setup();
  const packsBefore = fs.readdirSync(join(dir, "packs")).length;

  const forget = await cli(["forget", "--keep-last", "1", "--json"], env);
  assert.equal(forget.code, 0, forget.stderr);
  assert.equal(json(forget.stdout).deleted.length, 1);

  const mark = await cli(["gc", "mark", "--json"], env);
  assert.equal(mark.code, 0, mark.stderr);
  const marked = json(mark.stdout);
  assert.ok(marked.tiers.cold.deadBytes > 2_000_000, mark.stdout);

  // The plan alone: nothing changes in the repository.
  const estimate = await cli(["gc", "compact", "--all", "--estimate", "--json"], env);
  assert.equal(estimate.code, 0, estimate.stderr);
  const plan = json(estimate.stdout);
  assert.ok(plan.drop.length >= 1, "the deleted 2.5 MB file filled whole packs");
  assert.ok(plan.repack.length >= 1, "packs shared by kept and deleted files are repacked");
  assert.ok(plan.archived >= 1, `the data packs to repack are archived: ${estimate.stdout}`);
  assert.ok(plan.estimate.total_usd > 0);
  assert.equal(fs.readdirSync(join(dir, "packs")).length, packsBefore);

  // Without --all, a tiny data pack never pays for its restore: the dead packs are dropped,
  // and only metadata packs (read from their hot copies, no restore) may be worth repacking.
  const priced = json((await cli(["gc", "compact", "--estimate", "--json"], env)).stdout);
  assert.ok(priced.repack.every((r: { metadata: boolean }) => r.metadata), estimate.stdout);
  assert.ok(priced.keep.length >= 1, "the shared data packs are kept");
  assert.equal(priced.drop.length, plan.drop.length);

  // Deep Archive offers no expedited restores: refused as a usage error, before anything.
  const expedited = await cli(["gc", "compact", "--all", "--tier", "expedited", "--json"], env);
  assert.equal(expedited.code, 2, expedited.stderr);
  assert.match(expedited.stderr, /DEEP_ARCHIVE offers no expedited restores; use --tier /);
  assert.equal(finishColdRestores(dir), 0, "nothing was requested");

  // Compact: the archived packs are requested first (exit 4) with the command to run again,
  // which keeps the flags that decide what is repacked and at which tier...
  let compact = await cli(["gc", "compact", "--all", "--json"], env);
  assert.equal(compact.code, 4, compact.stderr);
  const waiting = json(compact.stdout);
  assert.equal(waiting.waiting, true);
  assert.equal(waiting.rerun, "permafrost gc compact --all");
  const said = await cli(["gc", "compact", "--all", "--horizon", "24", "--tier", "standard"], env);
  assert.equal(said.code, 4, said.stderr);
  assert.match(said.stdout, /run `permafrost gc compact --all --horizon 24 --tier standard` again/);
  // ...and, run as printed once the packs are restored, repacks them.
  assert.equal(finishColdRestores(dir), waiting.requested);
  compact = await cli([...waiting.rerun.split(" ").slice(1), "--json"], env);
  assert.equal(compact.code, 0, compact.stderr);
  const result = json(compact.stdout).result;
  assert.equal(result.retired, plan.drop.length + plan.repack.length);
  assert.ok(result.newPacks >= 1 && result.copiedBlobs >= 1, compact.stdout);
  assert.ok(
    fs.readdirSync(join(dir, "packs")).length > packsBefore,
    "compact deletes nothing, it only adds packs",
  );
  await checkClean(env);
  // The packs compact wrote are archived: the restore thaws them.
  await restoresExactly(env, dir, src, name, true);

  // Mark again: the retired packs are no longer in the index; no indexed pack is dead.
  const again = json((await cli(["gc", "mark", "--json"], env)).stdout);
  assert.equal(again.tiers.cold.deadBytes, 0, "every indexed pack is fully live");

  // Purge: within the default grace period nothing goes.
  const graced = json((await cli(["gc", "purge", "--dry-run", "--json"], env)).stdout);
  assert.equal(graced.delete.length, 0);
  assert.equal(graced.grace.length, result.retired);

  // Without grace: the packs are days old, inside DEEP_ARCHIVE's 180 days: listed with dates.
  const young = json((await cli(["gc", "purge", "--grace", "0", "--json"], env)).stdout);
  assert.equal(young.result.deletedPacks, 0);
  assert.equal(young.young.length, result.retired);
  assert.ok(young.young.every((c: { freeOn?: string }) => /^\d{4}-\d\d-\d\d$/.test(c.freeOn!)));
  assert.ok(young.young.some((c: { earlyFeeUsd: number }) => c.earlyFeeUsd > 0));
  assert.equal(fs.readdirSync(join(dir, "packs")).length > packsBefore, true);

  // Accepting the fee deletes them, and the superseded segments.
  const purge = await cli(
    ["gc", "purge", "--grace", "0", "--accept-early-fee", "--yes", "--json"],
    env,
  );
  assert.equal(purge.code, 0, purge.stderr);
  const purged = json(purge.stdout);
  assert.equal(purged.result.deletedPacks, result.retired);
  assert.ok(purged.result.deletedSegments >= 1);
  for (const c of purged.delete) {
    assert.ok(!fs.existsSync(join(dir, "packs", c.pack)), `${c.pack} deleted`);
  }
  const checked = await checkClean(env);
  assert.equal(checked.problems.length, 0);
  // Every pack the snapshot needs is still thawed (for a day) from the restore above.
  await restoresExactly(env, dir, src, name, false);

  // Nothing is left to purge, and a second run is harmless.
  const rerun = json((await cli(["gc", "purge", "--grace", "0", "--json"], env)).stdout);
  assert.equal(rerun.delete.length + rerun.young.length + rerun.segments.length, 0);
});

Deno.test("an ingest key runs no gc stage", async () => {
  const { env } = await setup();
  const keyFile = join(await tempDir(), "ingest.key");
  const k = await cli(["key", "ingest", "--out", keyFile], env);
  assert.equal(k.code, 0, k.stderr);
  for (const stage of [["mark"], ["compact", "--all", "--yes"], ["purge", "--grace", "0"]]) {
    const r = await cli(["gc", ...stage, "--key-file", keyFile], env);
    assert.notEqual(r.code, 0, `gc ${stage[0]} must refuse`);
    assert.match(r.stderr, /needs the admin role/);
  }
});
