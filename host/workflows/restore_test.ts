import assert from "node:assert/strict";
import fs from "node:fs";
import { basename, join } from "node:path";
import { backup } from "../ops/backup.ts";
import {
  coldSampleRepo,
  describeTree,
  finishColdRestores,
  newRepo,
  tempDir,
  writeSampleTree,
} from "../../test/helpers.ts";
import { InvalidRequest } from "./invalid_request.ts";
import { repoPricing } from "./pricing.ts";
import { runRestore, TierNotOffered } from "./restore.ts";
import {
  estimateRestore,
  needsThaw,
  prepareRestore,
  restoreEstimateReport,
  summarize,
} from "./restore_estimate.ts";

/** The cold sample repository, with a folder for restore jobs. */
async function coldRepo() {
  return { ...await coldSampleRepo(), jobs: { dir: await tempDir() } };
}

Deno.test("estimateRestore() prices every tier to the internet and in the region", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    writeSampleTree(src);
    await backup(repo, { paths: [src] });
    const e = await estimateRestore(repo, { snapshot: "latest" }, { tier: "bulk", to: "region" });
    assert.equal(e.pricing.asIfS3, true, "a plain folder is priced as if on S3");
    const pairs = e.alternatives.map((a) => `${a.tier}/${a.to}`).sort();
    assert.deepEqual(pairs, [
      "bulk/internet",
      "bulk/region",
      "standard/internet",
      "standard/region",
    ]);
    assert.equal(e.chosen.tier, "bulk");
    assert.equal(e.chosen.to, "region");
    assert.ok(e.summary.files > 0 && e.summary.packs > 0);
    const report = restoreEstimateReport(e);
    assert.equal(report.total_usd, e.chosen.estimate.total_usd);
    assert.equal(report.plan.files, e.summary.files);
    assert.ok(report.notes.some((n) => n.includes("not on S3")));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("estimateRestore() refuses a tier Deep Archive does not offer", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    writeSampleTree(src);
    await backup(repo, { paths: [src] });
    await assert.rejects(
      estimateRestore(repo, { snapshot: "latest" }, { tier: "expedited" }),
      InvalidRequest,
    );
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runRestore() of readable packs restores without asking or recording a job", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    writeSampleTree(src);
    await backup(repo, { paths: [src] });
    const preview = await prepareRestore(repo, { snapshot: "latest" });
    assert.equal(needsThaw(preview), false);
    const target = await tempDir();
    const outcome = await runRestore(repo, preview, {
      pricing: repoPricing(repo),
      tier: "standard",
      days: 3,
      location: "unused",
      target,
      approve: () => Promise.reject(new Error("a plain folder bills nothing: no gate")),
    });
    assert.equal(outcome.status, "restored");
    assert.deepEqual(describeTree(join(target, basename(src))), describeTree(src));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runRestore() of archived packs requests them, records a job, and resumes once thawed", async () => {
  const { dir, location, repo, src, jobs } = await coldRepo();
  try {
    const preview = await prepareRestore(repo, { snapshot: "latest" });
    assert.equal(needsThaw(preview), true);
    const target = await tempDir();
    const pricing = repoPricing(repo);
    let asked = 0;
    const first = await runRestore(repo, preview, {
      pricing,
      tier: "bulk",
      days: 2,
      location,
      target,
      jobs,
      approve: (e) => {
        asked++;
        assert.equal(e.chosen.tier, "bulk");
        return Promise.resolve(true);
      },
    });
    assert.equal(first.status, "waiting");
    if (first.status !== "waiting") return;
    assert.equal(asked, 1);
    assert.equal(first.sent, preview.coldPacks.length);
    assert.ok(fs.existsSync(join(jobs.dir, `${first.job.id}.json`)), "job saved");
    assert.equal(first.job.target, target);

    finishColdRestores(dir);
    const again = await prepareRestore(repo, {
      snapshot: first.job.snapshot,
      path: first.job.path,
    });
    const done = await runRestore(repo, again, {
      pricing,
      tier: first.job.tier,
      days: first.job.days,
      location,
      job: first.job,
      jobs,
      approve: () => Promise.reject(new Error("nothing more to spend: no gate")),
    });
    assert.equal(done.status, "restored");
    assert.ok(!fs.existsSync(join(jobs.dir, `${first.job.id}.json`)), "job removed");
    assert.deepEqual(describeTree(join(target, basename(src))), describeTree(src));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runRestore() with wait surveys until the packs thaw, with the injected sleep", async () => {
  const { dir, location, repo, src, jobs } = await coldRepo();
  try {
    const preview = await prepareRestore(repo, { snapshot: "latest" });
    const target = await tempDir();
    let slept = 0;
    const outcome = await runRestore(repo, preview, {
      pricing: repoPricing(repo),
      tier: "standard",
      days: 1,
      location,
      target,
      jobs,
      approve: () => Promise.resolve(true),
      wait: {
        intervalSeconds: 900,
        sleep: () => {
          slept++;
          finishColdRestores(dir);
          return Promise.resolve();
        },
      },
    });
    assert.equal(outcome.status, "restored");
    assert.equal(slept, 1);
    assert.deepEqual(describeTree(join(target, basename(src))), describeTree(src));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runRestore() declined at the gate requests nothing", async () => {
  const { location, repo, jobs } = await coldRepo();
  try {
    const preview = await prepareRestore(repo, { snapshot: "latest" });
    const outcome = await runRestore(repo, preview, {
      pricing: repoPricing(repo),
      tier: "standard",
      days: 1,
      location,
      target: await tempDir(),
      jobs,
      approve: () => Promise.resolve(false),
    });
    assert.equal(outcome.status, "declined");
    const after = await prepareRestore(repo, { snapshot: "latest" });
    assert.equal(after.states.filter((s) => s.availability.state === "restoring").length, 0);
    assert.deepEqual(fs.readdirSync(jobs.dir), []);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runRestore() refuses a tier the archived packs' class does not offer", async () => {
  const { location, repo, jobs } = await coldRepo();
  try {
    const preview = await prepareRestore(repo, { snapshot: "latest" });
    await assert.rejects(
      runRestore(repo, preview, {
        pricing: repoPricing(repo),
        tier: "expedited",
        days: 1,
        location,
        target: await tempDir(),
        jobs,
      }),
      (e: unknown) => e instanceof TierNotOffered && e.storageClass === "DEEP_ARCHIVE",
    );
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runRestore() of one file requests only the packs that hold it", async () => {
  const { location, repo, src, jobs } = await coldRepo();
  try {
    const all = await prepareRestore(repo, { snapshot: "latest" });
    const path = `/${basename(src)}/big/random.bin`; // 700 KiB: one or two of the 1 MiB packs
    const one = await prepareRestore(repo, { snapshot: "latest", path });
    assert.ok(one.coldPacks.length >= 1 && one.coldPacks.length < all.coldPacks.length);
    const outcome = await runRestore(repo, one, {
      pricing: repoPricing(repo),
      tier: "bulk",
      days: 1,
      location,
      target: await tempDir(),
      jobs,
      approve: () => Promise.resolve(true),
    });
    assert.equal(outcome.status, "waiting");
    if (outcome.status !== "waiting") return;
    assert.equal(outcome.sent, one.coldPacks.length);
    assert.deepEqual(outcome.job.packs, one.coldPacks);
    const after = await prepareRestore(repo, { snapshot: "latest" });
    const state = (name: string) => after.states.find((s) => s.name === name)!.availability.state;
    for (const name of all.coldPacks) {
      assert.equal(state(name), one.coldPacks.includes(name) ? "restoring" : "archived", name);
    }
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runRestore() resumed at the job's tier asks for nothing again; at a faster tier it upgrades every request still running", async () => {
  const { location, repo, jobs } = await coldRepo();
  try {
    const pricing = repoPricing(repo);
    const approve = () => Promise.resolve(true);
    const first = await runRestore(repo, await prepareRestore(repo, { snapshot: "latest" }), {
      pricing,
      tier: "bulk",
      days: 1,
      location,
      target: await tempDir(),
      jobs,
      approve,
    });
    assert.equal(first.status, "waiting");
    if (first.status !== "waiting") return;
    const { job, sent: requested } = first;
    const resume = async (tier: "bulk" | "standard") => {
      const preview = await prepareRestore(repo, { snapshot: job.snapshot, path: job.path });
      const outcome = await runRestore(repo, preview, {
        pricing,
        tier,
        days: job.days,
        location,
        job,
        jobs,
        approve,
      });
      assert.equal(outcome.status, "waiting");
      return { preview, sent: outcome.status === "waiting" ? outcome.sent : -1 };
    };

    const same = await resume("bulk");
    assert.equal(same.sent, 0);
    assert.equal(summarize(same.preview).cold.restoring.packs, requested);

    const faster = await resume("standard");
    assert.equal(faster.sent, requested, "every running request upgraded");
    const saved = JSON.parse(fs.readFileSync(join(jobs.dir, `${job.id}.json`), "utf8"));
    assert.equal(saved.tier, "standard");
    assert.deepEqual(
      saved.requests.map((r: { tier: string; packs: number }) => [r.tier, r.packs]),
      [["bulk", requested], ["standard", requested]],
    );
  } finally {
    await repo.storage.close();
  }
});
