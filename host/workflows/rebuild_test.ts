import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { planRebuild } from "../ops/rebuild_plan.ts";
import { Repository } from "../repository/repository.ts";
import { openStorage } from "../storage/open.ts";
import { coldSampleRepo, finishColdRestores, PASSWORD } from "../../test/helpers.ts";
import { repoPricing } from "./pricing.ts";
import {
  priceRebuild,
  priceRestoring,
  type RebuildStep,
  runRebuild,
  summarizeRebuild,
} from "./rebuild.ts";
import { TierNotOffered } from "./thaw.ts";

/** The cold sample repository whose hot tier (index, snapshots, metadata copies) is then lost. */
async function repoWithoutHotTier() {
  const { dir, location, repo: made, snapshot } = await coldSampleRepo();
  await made.storage.close();
  for (const hot of ["index", "snapshots", "meta"]) {
    fs.rmSync(join(dir, hot), { recursive: true, force: true });
  }
  const repo = await Repository.open(await openStorage(location, "admin"), {
    passphrase: PASSWORD,
  });
  return { dir, repo, snapshot };
}

Deno.test("priceRebuild() prices the metadata-only and every-pack cases at home and in the region", async () => {
  const { repo } = await repoWithoutHotTier();
  try {
    const plan = await planRebuild(repo);
    const e = priceRebuild(plan, repoPricing(repo), { tier: "bulk", to: "region" });
    assert.deepEqual(
      e.alternatives.map((a) => `${a.case}/${a.to}`),
      ["metadata/internet", "metadata/region", "every-pack/internet", "every-pack/region"],
    );
    assert.equal(e.chosen.case, "metadata");
    assert.equal(e.chosen.to, "region");
    assert.equal(e.tier, "bulk");
    assert.ok(e.alternatives[2].bytes > e.alternatives[0].bytes, "every pack is more bytes");
    assert.throws(
      () => priceRebuild(plan, repoPricing(repo), { tier: "expedited", to: "internet" }),
      TierNotOffered,
    );
    // The metadata case is restoring the first step's packs, as `--emit-job` prices them.
    const first = priceRestoring(plan.first, repoPricing(repo), { tier: "bulk", to: "region" });
    assert.deepEqual(first, e.chosen.estimate);
    const summary = summarizeRebuild(plan);
    assert.equal(summary.packs, plan.packs.length);
    assert.deepEqual(summary.restore, { packs: plan.first.length, bytes: e.chosen.bytes });
    assert.equal(summary.kindFrom.label + summary.kindFrom.header, plan.packs.length);
    assert.equal(summary.cold.archived.packs, plan.first.length, "the cold copies are archived");
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runRebuild() asks, requests the metadata packs and waits; run again once thawed, it writes the hot tier", async () => {
  const { dir, repo, snapshot } = await repoWithoutHotTier();
  try {
    const plan = await planRebuild(repo);
    const pricing = repoPricing(repo);
    const choice = { tier: "bulk", to: "internet" } as const;
    const estimate = priceRebuild(plan, pricing, choice);
    const asked: RebuildStep[] = [];
    const options = {
      ...choice,
      pricing,
      estimate,
      approve: (step: RebuildStep) => {
        asked.push(step);
        return Promise.resolve(true);
      },
    };
    const first = await runRebuild(repo, plan, options);
    assert.equal(first.status, "waiting");
    if (first.status !== "waiting") return;
    assert.equal(first.step.step, "metadata");
    assert.equal(first.sent, plan.first.length);
    assert.equal(asked.length, 1);
    assert.equal(asked[0].estimate, estimate.chosen.estimate);
    assert.deepEqual(fs.readdirSync(dir).filter((d) => d === "snapshots"), [], "nothing written");

    finishColdRestores(dir);
    const again = await runRebuild(repo, await planRebuild(repo), options);
    assert.equal(again.status, "rebuilt");
    if (again.status !== "rebuilt") return;
    assert.deepEqual(again.problems, []);
    assert.equal(again.result.snapshots.written, 1);
    assert.equal(asked.length, 1, "nothing more to pay for: not asked again");
    const reopened = await Repository.open(repo.storage, { passphrase: PASSWORD });
    assert.equal((await reopened.snapshot(snapshot)).id, snapshot);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runRebuild() declined at the gate requests nothing", async () => {
  const { dir, repo } = await repoWithoutHotTier();
  try {
    const plan = await planRebuild(repo);
    const pricing = repoPricing(repo);
    const estimate = priceRebuild(plan, pricing, { tier: "bulk", to: "internet" });
    const outcome = await runRebuild(repo, plan, {
      tier: "bulk",
      to: "internet",
      pricing,
      estimate,
      approve: () => Promise.resolve(false),
    });
    assert.equal(outcome.status, "declined");
    assert.equal(finishColdRestores(dir), 0, "no restore was requested");
  } finally {
    await repo.storage.close();
  }
});
