/**
 * Restore orchestration from cold storage, end to end through the CLI, on the local back end
 * in "simulate cold" mode (data packs archived until a restore request, readable after a
 * delay): plan, request, job saved, exit status 4, resume after the process ended, `--tier`,
 * `--wait`, and refusals. Which packs a restore requests, and when a resumed job asks again,
 * are tested on the workflow directly (host/workflows/restore_test.ts).
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

/** A restore takes this long, unless a test ends it (`finishColdRestores`). */
const DELAY_SECONDS = 3600;

async function setup(delay = DELAY_SECONDS) {
  const { dir, env } = await initColdRepo(delay);
  const src = await tempDir();
  for (const d of ["a", "b"]) {
    fs.mkdirSync(join(src, d));
    for (let i = 0; i < 3; i++) {
      fs.writeFileSync(join(src, d, `f${i}`), randomBytes(700_000, d.charCodeAt(0) * 10 + i));
    }
  }
  const b = await cli(["backup", src], env);
  assert.equal(b.code, 0, b.stderr);
  return { dir, env, src, name: src.split("/").pop()!, state: env.PERMAFROST_STATE_DIR };
}

const json = (s: string) => JSON.parse(s);

Deno.test("restore from cold: requests, saves a job, exits 4; --resume restores once thawed", async () => {
  const { dir, env, src, name, state } = await setup();
  const target = await tempDir();

  const dry = await cli(["restore", "latest", "--dry-run", "--json"], env);
  assert.equal(dry.code, 0, dry.stderr);
  const plan = json(dry.stdout);
  assert.ok(plan.cold.archived.packs >= 3, dry.stdout);
  assert.equal(plan.cold.readable.packs, 0);

  const first = await cli(["restore", "latest", "--target", target, "--json"], env);
  assert.equal(first.code, 4, first.stderr);
  const out = json(first.stdout);
  assert.equal(out.waiting, true);
  assert.equal(out.requested, plan.cold.archived.packs);
  assert.equal(out.resume, `permafrost restore --resume ${out.job}`);
  assert.ok(fs.existsSync(join(state, "restore-jobs", `${out.job}.json`)));
  assert.deepEqual(fs.readdirSync(target), [], "nothing is written before the packs thaw");

  // Asked again while they thaw: still waiting, and nothing is requested twice.
  const again = await cli(["restore", "--resume", out.job, "--json"], env);
  assert.equal(again.code, 4, again.stderr);
  assert.equal(json(again.stdout).requested, 0);
  assert.deepEqual(fs.readdirSync(target), []);

  // Once thawed, the same command restores.
  assert.equal(finishColdRestores(dir), out.requested);
  const done = await cli(["restore", "--resume", out.job, "--json"], env);
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(describeTree(join(target, name)), describeTree(src));
  assert.ok(!fs.existsSync(join(state, "restore-jobs", `${out.job}.json`)), "job removed");
});

Deno.test("restore from cold with --wait surveys until the packs thaw, then restores", async () => {
  // The CLI's own wait: restores that take a second, surveyed every second until it exits.
  const { env, src, name } = await setup(1);
  const target = await tempDir();
  const r = await cli(
    ["restore", `latest:/${name}/b`, "--target", target, "--wait", "--poll", "1"],
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /packs readable/);
  assert.deepEqual(describeTree(join(target, "b")), describeTree(join(src, "b")));
});

Deno.test("restore refuses a tier the storage class does not offer, and bad flags", async () => {
  const { env } = await setup();
  const target = await tempDir();
  const exp = await cli(["restore", "latest", "--target", target, "--tier", "expedited"], env);
  assert.equal(exp.code, 2);
  assert.match(exp.stderr, /DEEP_ARCHIVE offers no expedited restores; use --tier bulk or/);
  const bad = await cli(["restore", "latest", "--target", target, "--tier", "fast"], env);
  assert.equal(bad.code, 2);
  const days = await cli(["restore", "latest", "--target", target, "--days", "0"], env);
  assert.equal(days.code, 2);
  const missing = await cli(["restore", "--resume", "0123456789ab"], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no restore job "0123456789ab"/);
});

Deno.test("resuming a job with a faster --tier upgrades the requests still running", async () => {
  const { env, state } = await setup();
  const first = await cli([
    "restore",
    "latest",
    "--target",
    await tempDir(),
    "--tier",
    "bulk",
    "--json",
  ], env);
  assert.equal(first.code, 4, first.stderr);
  const { job, requested } = json(first.stdout);
  const up = await cli(["restore", "--resume", job, "--tier", "standard", "--json"], env);
  assert.equal(up.code, 4, up.stderr);
  assert.equal(json(up.stdout).requested, requested, "every running request upgraded");
  const saved = JSON.parse(fs.readFileSync(join(state, "restore-jobs", `${job}.json`), "utf8"));
  assert.equal(saved.tier, "standard");
  assert.deepEqual(saved.requests.map((r: { tier: string }) => r.tier), ["bulk", "standard"]);
});
