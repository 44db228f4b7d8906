import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { COLD_DIR } from "../../plugins/storage/local/object_path.ts";
import { parseSubset } from "../ops/sample_pick.ts";
import { coldSampleRepo, finishColdRestores } from "../../test/helpers.ts";
import {
  planCheckSample,
  prepareCheckSample,
  priceCheckSample,
  sampleEstimateReport,
} from "./check_sample.ts";
import { repoPricing } from "./pricing.ts";
import { TierNotOffered } from "./thaw.ts";

Deno.test("planCheckSample() picks the same packs for the same seed", async () => {
  const { repo } = await coldSampleRepo();
  try {
    const a = await planCheckSample(repo, parseSubset("2@abc"));
    const b = await planCheckSample(repo, parseSubset("2@abc"));
    assert.equal(a.sample.packs.length, 2);
    assert.deepEqual(a.sample.packs, b.sample.packs);
    assert.equal(a.states.size, 2, "both sampled packs surveyed");
  } finally {
    await repo.storage.close();
  }
});

Deno.test("prepareCheckSample() asks, requests the archived sampled packs, and waits with the injected sleep", async () => {
  const { dir, repo } = await coldSampleRepo();
  try {
    const plan = await planCheckSample(repo, parseSubset("100%"));
    const pricing = repoPricing(repo);
    const estimate = priceCheckSample(plan, pricing, { days: 1, fallback: "bulk" });
    assert.equal(estimate.chosen.tier, "bulk");
    assert.ok(estimate.objects.length >= plan.packs.length, "metadata packs are read twice");
    let asked = 0;
    let slept = 0;
    const outcome = await prepareCheckSample(repo, plan, {
      pricing,
      estimate,
      days: 1,
      approve: () => Promise.resolve(++asked > 0),
      wait: {
        intervalSeconds: 60,
        sleep: () => {
          slept++;
          finishColdRestores(dir);
          return Promise.resolve();
        },
      },
    });
    assert.equal(outcome.status, "readable");
    assert.equal(asked, 1);
    assert.equal(slept, 1);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("prepareCheckSample() without wait requests the packs and says waiting", async () => {
  const { repo } = await coldSampleRepo();
  try {
    const plan = await planCheckSample(repo, parseSubset("100%"));
    const pricing = repoPricing(repo);
    const estimate = priceCheckSample(plan, pricing, { days: 1 });
    const told: string[] = [];
    const outcome = await prepareCheckSample(repo, plan, {
      pricing,
      estimate,
      days: 1,
      onRequested: (sent, tier) => told.push(`${sent} at ${tier}`),
    });
    assert.equal(outcome.status, "waiting");
    if (outcome.status !== "waiting") return;
    assert.ok(outcome.sent > 0);
    assert.equal(outcome.tier, "standard", "the estimate's tier");
    assert.deepEqual(told, [`${outcome.sent} at standard`]);
    const again = await planCheckSample(repo, parseSubset("100%"));
    assert.ok([...again.states.values()].some((s) => s.availability.state === "restoring"));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("a tier the sampled packs' class does not offer is refused before anything is asked", async () => {
  const { repo } = await coldSampleRepo();
  try {
    const plan = await planCheckSample(repo, parseSubset("100%"));
    const pricing = repoPricing(repo);
    assert.throws(
      () => priceCheckSample(plan, pricing, { days: 1, tier: "expedited" }),
      (e: unknown) => e instanceof Error && e.name === "InvalidRequest",
    );
    const estimate = priceCheckSample(plan, pricing, { days: 1 });
    const expedited = { ...estimate, chosen: { ...estimate.chosen, tier: "expedited" as const } };
    await assert.rejects(
      prepareCheckSample(repo, plan, {
        pricing,
        estimate: expedited,
        days: 1,
        approve: () => Promise.reject(new Error("asked before the tier was checked")),
      }),
      TierNotOffered,
    );
  } finally {
    await repo.storage.close();
  }
});

Deno.test("prepareCheckSample() of a rerun while the sample is restoring asks again at the tier given when a copy expires", async () => {
  const { dir, repo } = await coldSampleRepo();
  try {
    const pricing = repoPricing(repo);
    const first = await planCheckSample(repo, parseSubset("100%"));
    const firstEstimate = priceCheckSample(first, pricing, { days: 1, tier: "standard" });
    await prepareCheckSample(repo, first, { pricing, estimate: firstEstimate, days: 1 });

    // The rerun: no sampled pack is archived now, so the estimate chooses no tier.
    const again = await planCheckSample(repo, parseSubset("100%"));
    const estimate = priceCheckSample(again, pricing, { days: 1 });
    assert.equal(estimate.chosen.tier, undefined);
    const cold = join(dir, COLD_DIR);
    const records = () =>
      fs.readdirSync(cold).filter((f) => f.endsWith(".json")).map((f) => join(cold, f));
    let sleeps = 0;
    const outcome = await prepareCheckSample(repo, again, {
      pricing,
      estimate,
      days: 1,
      tier: "bulk",
      wait: {
        intervalSeconds: 0,
        sleep: () => {
          if (sleeps++ === 0) {
            // Every copy expires before it was read: the wait must ask again.
            for (const file of records()) {
              const record = JSON.parse(fs.readFileSync(file, "utf8"));
              delete record.restore;
              fs.writeFileSync(file, JSON.stringify(record));
            }
          } else finishColdRestores(dir);
          return Promise.resolve();
        },
      },
    });
    assert.equal(outcome.status, "readable");
    const tiers = records().map((f) => JSON.parse(fs.readFileSync(f, "utf8")).restore?.tier);
    assert.ok(tiers.length > 0);
    assert.ok(tiers.every((t) => t === "bulk"), `asked again at ${tiers.join(", ")}`);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("priceCheckSample() reports the sample, its reads and its packs' cold states", async () => {
  const { repo } = await coldSampleRepo();
  try {
    const plan = await planCheckSample(repo, parseSubset("3@abc"));
    const e = priceCheckSample(plan, repoPricing(repo), { days: 2, tier: "bulk", to: "region" });
    const metadata = plan.packs.filter((p) => p.metadata);
    assert.deepEqual(e.summary, {
      ...plan.sample,
      metadata_packs: metadata.length,
      objects: plan.packs.length + metadata.length,
      bytes: [...plan.packs, ...metadata].reduce((sum, p) => sum + p.length, 0),
      cold: e.summary.cold,
    });
    assert.equal(e.summary.cold.archived.packs, 3);
    assert.ok(e.notes.includes("restored copies are priced for 2 days (--days)"));
    assert.ok(!e.notes.some((n) => n.includes("missing")));
    const report = sampleEstimateReport(e);
    assert.equal(report.tier, "bulk");
    assert.equal(report.to, "region");
    assert.deepEqual(report.plan, e.summary);
  } finally {
    await repo.storage.close();
  }
});
