/**
 * `restore --resume JOB --estimate` through the CLI: the job's tier is the job's, not a `--tier`
 * the user gave. A job can name a tier its packs' class no longer offers (written while they
 * were in a class that offered it; a lifecycle rule moved them since): its estimate then falls
 * back as a restore without `--tier` does, where `--tier` itself is refused.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { newJobId, saveJob } from "../host/cold/restore_job.ts";
import type { RestoreTier } from "../host/storage/storage.ts";
import { prepareRestore } from "../host/workflows/restore_estimate.ts";
import { cli, coldSampleRepo, tempDir } from "./helpers.ts";

Deno.test("restore --resume --estimate prices at the job's tier, and falls back when the packs' class no longer offers it", async () => {
  const { location, repo, snapshot } = await coldSampleRepo();
  const { coldPacks } = await prepareRestore(repo, { snapshot });
  await repo.storage.close();
  const state = await tempDir();
  const target = await tempDir();
  /** A job as `restore` saves it, at `tier`, before any of its requests was made. */
  const job = (tier: RestoreTier) => {
    const id = newJobId();
    const at = new Date().toISOString();
    saveJob(
      {
        version: 1,
        id,
        repo: location,
        snapshot,
        path: "/",
        target,
        tier,
        days: 3,
        packs: coldPacks,
        requestedAt: at,
        requests: [],
      },
      join(state, "restore-jobs"),
    );
    return id;
  };
  const estimate = async (id: string, ...flags: string[]) => {
    const env = { PERMAFROST_STATE_DIR: state };
    const r = await cli(["restore", "--resume", id, "--estimate", "--json", ...flags], env);
    return { ...r, json: r.code === 0 ? JSON.parse(r.stdout) : undefined };
  };

  const bulk = await estimate(job("bulk"));
  assert.equal(bulk.code, 0, bulk.stderr);
  assert.equal(bulk.json.tier, "bulk", "the job's tier, which Deep Archive offers");

  const expedited = await estimate(job("expedited"));
  assert.equal(expedited.code, 0, expedited.stderr);
  assert.equal(expedited.json.tier, "standard", "no expedited in Deep Archive: as without --tier");
  assert.deepEqual(
    [...new Set(expedited.json.alternatives.map((a: { tier: string }) => a.tier))].sort(),
    ["bulk", "standard"],
  );

  const given = await estimate(job("bulk"), "--tier", "expedited");
  assert.notEqual(given.code, 0, "a --tier the class does not offer is still refused");
  assert.match(given.stderr, /no "expedited" restore tier/);
});
