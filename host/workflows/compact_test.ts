import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { totals } from "../cold/pack_survey.ts";
import { backup } from "../ops/backup.ts";
import type { CompactPlan } from "../ops/gc_compact.ts";
import type { CompactStep } from "../ops/gc_compact_execute.ts";
import {
  coldSampleRepo,
  finishColdRestores,
  forgetOne,
  newRepo,
  randomBytes,
  tempDir,
} from "../../test/helpers.ts";
import { compactionReport, estimateCompaction, runCompaction } from "./compact.ts";
import { InvalidRequest } from "./invalid_request.ts";
import { repoPricing } from "./pricing.ts";
import { TierNotOffered } from "./thaw.ts";

/**
 * The cold sample repository (Deep Archive, simulated; restores take an hour until
 * `finishColdRestores`) with dead data in a data pack it shares with live blobs: the sample's
 * large random file is deleted, backed up again, and the first snapshot forgotten.
 */
async function coldRepoWithDeadData() {
  const { dir, repo, src, snapshot } = await coldSampleRepo();
  fs.rmSync(join(src, "big/random.bin"));
  await backup(repo, { paths: [src] });
  await forgetOne(repo, (await repo.snapshots()).find((s) => s.id === snapshot)!);
  return { dir, repo };
}

/** How many objects the repository folder `dir` holds under `packs/` and `index/`. */
function objectCount(dir: string): number {
  return ["packs", "index"]
    .map((d) => fs.readdirSync(join(dir, d), { recursive: true }).length)
    .reduce((a, b) => a + b, 0);
}

/** An `approve` that says `answer` and keeps the plans it was asked about. */
function gate(answer: boolean) {
  const asked: CompactPlan[] = [];
  return {
    asked,
    approve: (plan: CompactPlan) => {
      asked.push(plan);
      return Promise.resolve(answer);
    },
  };
}

Deno.test("estimateCompaction() refuses a tier Deep Archive does not offer and a horizon of no months", async () => {
  const { repo } = await coldRepoWithDeadData();
  try {
    const pricing = repoPricing(repo);
    await assert.rejects(
      estimateCompaction(repo, { pricing, all: true, tier: "expedited" }),
      TierNotOffered,
    );
    await assert.rejects(estimateCompaction(repo, { pricing, horizonMonths: 0 }), InvalidRequest);
    const plan = await estimateCompaction(repo, { pricing, all: true, tier: "standard" });
    const report = compactionReport(plan);
    assert.ok(report.repack.some((r) => !r.metadata), "the shared data pack is repacked");
    assert.ok(report.archived >= 1, "and its cold copy is archived");
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runCompaction() asks, requests the archived packs and writes nothing; run again once they are restored, it compacts", async () => {
  const { dir, repo } = await coldRepoWithDeadData();
  try {
    const pricing = repoPricing(repo);
    const before = objectCount(dir);
    const plan = await estimateCompaction(repo, { pricing, all: true });
    const { asked, approve } = gate(true);
    const requested: number[] = [];
    const first = await runCompaction(repo, plan, {
      pricing,
      approve,
      onRequested: ({ sent }) => requested.push(sent),
    });
    assert.equal(first.status, "waiting");
    if (first.status !== "waiting") return;
    assert.deepEqual(asked, [plan], "the gate saw the plan before anything was requested");
    assert.equal(first.sent, totals(plan.survey).archived.packs);
    assert.deepEqual(requested, [first.sent]);
    assert.equal(objectCount(dir), before, "nothing was written while the packs thaw");

    assert.equal(finishColdRestores(dir), first.sent);
    const again = await estimateCompaction(repo, { pricing, all: true });
    const steps: CompactStep[] = [];
    const second = await runCompaction(repo, again, {
      pricing,
      approve,
      onStep: (step) => void steps.push(step),
    });
    assert.equal(second.status, "compacted");
    if (second.status !== "compacted") return;
    assert.equal(second.result.retired, again.repack.length + again.drop.length);
    assert.ok(second.result.copiedBlobs >= 1 && second.result.newPacks >= 1);
    assert.deepEqual(steps, ["copied", "superseded"]);

    // The packs it retired are out of the index: the next plan has none of them to repack.
    const retired = new Set([
      ...again.repack.map((c) => c.pack.id),
      ...again.drop.map((p) => p.id),
    ]);
    const next = await estimateCompaction(repo, { pricing, all: true });
    assert.deepEqual(
      [...next.repack.map((c) => c.pack.id), ...next.drop.map((p) => p.id)].filter((id) =>
        retired.has(id!)
      ),
      [],
    );
    assert.equal(asked.length, 2, "asked once per run");
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runCompaction() with wait surveys through the injected sleep and compacts in one call", async () => {
  const { dir, repo } = await coldRepoWithDeadData();
  try {
    const pricing = repoPricing(repo);
    const plan = await estimateCompaction(repo, { pricing, all: true, tier: "standard" });
    let slept = 0;
    const outcome = await runCompaction(repo, plan, {
      pricing,
      tier: "standard",
      days: 1,
      wait: {
        intervalSeconds: 900,
        sleep: () => {
          slept++;
          finishColdRestores(dir);
          return Promise.resolve();
        },
      },
    });
    assert.equal(outcome.status, "compacted");
    assert.equal(slept, 1);
    const record = fs.readdirSync(join(dir, ".cold")).map((f) =>
      JSON.parse(fs.readFileSync(join(dir, ".cold", f), "utf8"))
    ).find((r) => r.restore !== undefined);
    assert.equal(record?.restore?.tier, "standard", "restored at the tier asked for");
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runCompaction() declined at the gate requests nothing and writes nothing", async () => {
  const { dir, repo } = await coldRepoWithDeadData();
  try {
    const pricing = repoPricing(repo);
    const before = objectCount(dir);
    const plan = await estimateCompaction(repo, { pricing, all: true });
    const outcome = await runCompaction(repo, plan, { pricing, ...gate(false) });
    assert.equal(outcome.status, "declined");
    assert.equal(finishColdRestores(dir), 0, "no restore was requested");
    assert.equal(objectCount(dir), before);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("runCompaction() on a store that bills nothing asks no one and restores nothing", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    fs.writeFileSync(join(src, "keep.bin"), randomBytes(300_000, 1));
    fs.writeFileSync(join(src, "gone.bin"), randomBytes(300_000, 2));
    await backup(repo, { paths: [src] });
    fs.rmSync(join(src, "gone.bin"));
    await backup(repo, { paths: [src] });
    const pricing = repoPricing(repo);
    assert.equal(pricing.asIfS3, true);
    const { asked, approve } = gate(false);
    // Both snapshots need every blob: nothing is dead, nothing to do.
    const none = await estimateCompaction(repo, { pricing, all: true });
    assert.equal((await runCompaction(repo, none, { pricing, approve })).status, "nothing");

    await forgetOne(repo, (await repo.snapshots())[0]);
    // Priced as if in the config's cold class (Deep Archive): its tiers still apply.
    await assert.rejects(
      estimateCompaction(repo, { pricing, all: true, tier: "expedited" }),
      TierNotOffered,
    );
    const plan = await estimateCompaction(repo, { pricing, all: true });
    assert.ok(plan.drop.length >= 1, "the forgotten file's pack is dropped");
    const outcome = await runCompaction(repo, plan, { pricing, approve });
    assert.equal(outcome.status, "compacted");
    assert.equal(asked.length, 0, "a store that bills nothing has no gate");
  } finally {
    await repo.storage.close();
  }
});
