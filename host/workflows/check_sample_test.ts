import assert from "node:assert/strict";
import { parseSubset } from "../ops/check_sample.ts";
import { coldSampleRepo, finishColdRestores } from "../../test/helpers.ts";
import { planCheckSample, prepareCheckSample, priceCheckSample } from "./check_sample.ts";
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
    const outcome = await prepareCheckSample(repo, plan, { pricing, estimate, days: 1 });
    assert.equal(outcome.status, "waiting");
    if (outcome.status !== "waiting") return;
    assert.ok(outcome.sent > 0);
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
